"""JSON read with limits: no recursion or digit-limit tracebacks, and settings nested at most MAX_JSON_DEPTH deep."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from deforum.models.errors import DeforumError
from deforum.models.settings import SettingsError

MAX_JSON_DEPTH = 32


class JsonTooDeepError(DeforumError, ValueError):
    """JSON nested deeper than MAX_JSON_DEPTH (or deeper than the parser can follow)."""


def loads_limited(text: str) -> Any:
    """json.loads that turns deep nesting and over-long integers into ValueError subclasses with a reason."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise JsonTooDeepError(f"the JSON is nested too deeply (the limit is {MAX_JSON_DEPTH} levels)") from None
    check_nesting(data)
    return data


def check_nesting(data: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise JsonTooDeepError when lists/objects nest deeper than `limit` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, Mapping | list | tuple):
            continue
        if depth > limit:
            raise JsonTooDeepError(f"the JSON is nested too deeply (the limit is {limit} levels)")
        children = value.values() if isinstance(value, Mapping) else value
        stack.extend((child, depth + 1) for child in children)


def settings_nesting_error(data: Mapping[str, Any], source: str = "") -> None:
    """Raise SettingsError naming the key whose value nests too deeply."""
    for key, value in data.items():
        try:
            check_nesting(value, MAX_JSON_DEPTH - 1)
        except JsonTooDeepError as err:
            raise SettingsError([f"Setting '{key}': {err}. Flatten the value."], source) from None
