"""Syntax check of every schedule in a Settings at load time, then the size and geometry limits they drive."""

from __future__ import annotations

from deforum.config.render_limits import render_limit_problems
from deforum.models.fields import Kind
from deforum.models.settings import FIELD_SPECS, Settings, SettingsError


def check_schedules(settings: Settings, *, source: str = "") -> None:
    """Parse every numeric and string schedule, then check the limits; raise one SettingsError listing each problem."""
    from deforum.animation.schedules import ScheduleError, parse_schedule, parse_string_schedule

    problems: list[str] = []
    for key, spec in FIELD_SPECS.items():
        if spec.kind not in (Kind.SCHEDULE, Kind.STR_SCHEDULE):
            continue
        parse = parse_schedule if spec.kind is Kind.SCHEDULE else parse_string_schedule
        try:
            parse(settings[key], key)
        except ScheduleError as err:
            problems.append(str(err))
    if not problems:
        problems = render_limit_problems(settings)
    if problems:
        raise SettingsError(problems, source)
