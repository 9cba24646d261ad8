"""`python -m deforum schedule "SCHEDULE" --frames N [--seed S]`: a schedule's per-frame values as JSON."""

from __future__ import annotations

import json

from deforum.animation.schedule_parse import ScheduleError, is_plain_number, parse_string_schedule, unwrap_parentheses
from deforum.animation.schedules import evaluate_schedule, evaluate_string_schedule
from deforum.animation.variables import NO_MUSIC, ScheduleVariables


def run_schedule_command(text: str, frames: int, seed: int, variables: ScheduleVariables = NO_MUSIC) -> str:
    """The JSON list of a schedule's values for `frames` frames (strings for a quoted string schedule)."""
    if _is_string_schedule(text):
        return json.dumps(list(evaluate_string_schedule(text, frames, name="schedule")))
    return json.dumps(evaluate_schedule(text, frames, seed=seed, name="schedule", variables=variables).tolist())


def _is_string_schedule(text: str) -> bool:
    """True when every keyframe value is a quoted string that is not a number, e.g. `0: ("Euler a")`."""
    try:
        keyframes = parse_string_schedule(text, "schedule")
    except ScheduleError:
        return False
    return all(_is_quoted(unwrap_parentheses(text[key.value_offset:key.offset + len(key.text)]))
               and not is_plain_number(key.value_text) for key in keyframes)


def _is_quoted(value: str) -> bool:
    """Whether the value text is one quoted string."""
    return len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
