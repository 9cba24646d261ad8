"""Settings from a request go through the same validation as a settings file, then the server's path rules."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deforum.config.schedule_check import check_schedules
from deforum.config.settings_io import load
from deforum.integrations.api.option_rules import check_option_overrides
from deforum.integrations.api.paths import check_local_files, check_output_paths, check_urls
from deforum.models.errors import DeforumError
from deforum.models.settings import FIELD_SPECS, PROMPT_KEYS, Settings, SettingsError

Preflight = Callable[[Settings], Sequence[str]]
QUOTED_NAME = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")


@dataclass(frozen=True)
class Problem:
    """One problem in a request: where (a JSON path) and a readable message naming the key."""

    loc: tuple[str | int, ...]
    msg: str

    def to_dict(self) -> dict[str, Any]:
        """The FastAPI-style error entry."""
        return {"loc": list(self.loc), "msg": self.msg, "type": "settings_error"}


class InvalidRequest(DeforumError, ValueError):
    """Settings in a request that must not be queued: every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        keys = sorted({str(p.loc[-1]) for p in self.problems})
        super().__init__(f"Invalid settings ({len(self.problems)} problem(s), key(s): {', '.join(keys)}): "
                         + " | ".join(p.msg for p in self.problems))

    def to_dict(self) -> dict[str, Any]:
        """The 422 body: a summary message and one entry per problem."""
        return {"message": str(self), "detail": [p.to_dict() for p in self.problems]}


@dataclass(frozen=True)
class RequestPolicy:
    """What the server accepts: the output root, whether local files may be read, extra render checks."""

    output_root: Path
    allow_local_files: bool = False
    preflight: Preflight | None = None
    allow_urls: bool = False


def key_of(message: str) -> str:
    """The setting a problem message names (its first quoted known key), or 'settings'."""
    for name in QUOTED_NAME.findall(message):
        if name in FIELD_SPECS or name in PROMPT_KEYS:
            return name
    return "settings"


def _load(data: Mapping[str, Any]) -> tuple[Settings | None, list[str]]:
    """Load like a file; when keys are invalid, load again without them so the other checks still run."""
    try:
        return load(dict(data), check_schedule_syntax=False), []
    except SettingsError as err:
        problems, bad = list(err.problems), set(err.keys)
    try:
        return load({k: v for k, v in data.items() if k not in bad}, check_schedule_syntax=False), problems
    except SettingsError:
        return None, problems


def _schedule_problems(settings: Settings) -> list[str]:
    """Every schedule that does not parse, one line each (as loading a file reports them)."""
    try:
        check_schedules(settings)
    except SettingsError as err:
        return list(err.problems)
    return []


def validate_settings(data: Mapping[str, Any], policy: RequestPolicy,
                      where: tuple[str | int, ...] = ("body", "deforum_settings")) -> Settings:
    """Load one settings object like a file, apply the path rules; raise InvalidRequest naming each key."""
    settings, lines = _load(data)
    problems = [Problem((*where, key_of(line)), line) for line in lines]
    if settings is None:
        raise InvalidRequest(problems)
    problems += [Problem((*where, key_of(line)), line) for line in _schedule_problems(settings)]
    problems += [Problem((*where, p.key), p.message) for p in check_output_paths(settings, data, policy.output_root)]
    file_problems, resolved = check_local_files(settings, allow=policy.allow_local_files)
    problems += [Problem((*where, p.key), p.message) for p in file_problems + check_urls(settings,
                                                                                        allow=policy.allow_urls)]
    if policy.preflight is not None:
        problems += [Problem((*where, key_of(line)), line) for line in policy.preflight(settings)]
    if problems:
        raise InvalidRequest(problems)
    return settings.replace(**resolved) if resolved else settings


def validate_batch(items: Sequence[Mapping[str, Any]], overrides: Mapping[str, Any] | None,
                   policy: RequestPolicy) -> list[Settings]:
    """Validate every job of a batch; raise one InvalidRequest listing the problems of all of them."""
    problems = [Problem(("body", "options_overrides", p.key), p.message) for p in check_option_overrides(overrides)]
    accepted: list[Settings] = []
    for index, data in enumerate(items):
        try:
            accepted.append(validate_settings(data, policy, ("body", "deforum_settings", index)))
        except InvalidRequest as err:
            problems += err.problems
    if problems:
        raise InvalidRequest(problems)
    return accepted
