"""`--set KEY=VALUE` overrides, applied through the same validation as a settings file."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from deforum.config.json_limits import loads_limited
from deforum.config.schedule_check import check_schedules
from deforum.models.settings import Settings, SettingsError


def parse_override(text: str) -> tuple[str, Any]:
    """Split KEY=VALUE; VALUE is JSON when it parses as JSON, else a plain string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SettingsError([f"Override {text!r} is not KEY=VALUE. Example: --set max_frames=12"])
    try:
        value = loads_limited(raw)
    except json.JSONDecodeError:
        value = raw
    except ValueError as err:
        raise SettingsError([f"Override {key!r}: {err}. Use numbers below 1e308 and flat values."]) from None
    return key, value


def apply_overrides(settings: Settings, overrides: Iterable[str]) -> Settings:
    """Return settings with every KEY=VALUE applied and validated."""
    changes = dict(parse_override(item) for item in overrides)
    if not changes:
        return settings
    updated = settings.replace(**changes)
    check_schedules(updated, source="--set")
    return updated
