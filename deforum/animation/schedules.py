"""Schedules evaluated for all frames at once: numeric keyframes interpolate, expression keyframes hold."""

from __future__ import annotations

import math

import numpy as np

from deforum.animation.expressions import ExpressionError, evaluate
from deforum.animation.schedule_parse import (
    KEY_NAMES,
    MAX_SCHEDULE_LENGTH,
    Keyframe,
    ScheduleError,
    format_number,
    format_schedule,
    is_plain_number,
    parse_schedule,
    parse_string_schedule,
)
from deforum.animation.variables import NO_MUSIC, ScheduleVariables

__all__ = [
    "KEY_NAMES", "MAX_FRAMES", "MAX_SCHEDULE_LENGTH", "Keyframe", "ScheduleError", "evaluate_schedule",
    "evaluate_string_schedule", "format_number", "format_schedule", "is_plain_number", "parse_schedule",
    "parse_string_schedule", "resolve_keyframes",
]

MAX_FRAMES = 1_000_000
_FINITE_FIX = "keep the value finite: avoid division by zero, log(0), sqrt of negatives and huge powers"


def evaluate_schedule(text: str, max_frames: int, *, seed: int = -1, name: str = "schedule",
                      variables: ScheduleVariables = NO_MUSIC) -> np.ndarray:
    """Per-frame float64 values of a numeric schedule (length max_frames); `variables` adds fps, bpm, beat, audio."""
    _check_frame_count(max_frames, name)
    keyframes = parse_schedule(text, name)
    if max_frames == 0:
        return np.empty(0, dtype=np.float64)
    resolved = resolve_keyframes(keyframes, max_frames, seed=seed, name=name)
    values = np.full(max_frames, np.nan, dtype=np.float64)
    constants = {"max_f": float(max_frames - 1), "s": float(seed)}
    for position, (frame, key) in enumerate(resolved):
        end = resolved[position + 1][0] if position + 1 < len(resolved) else max_frames
        if key.number is not None:
            values[frame] = key.number
        else:
            values[frame:end] = _expression_segment(key, frame, end, constants, name, variables)
    return _fill_between_keyframes(values)


def evaluate_string_schedule(text: str, max_frames: int, *, name: str = "schedule") -> tuple[str, ...]:
    """Per-frame strings of a string schedule: each value holds until the next keyframe."""
    _check_frame_count(max_frames, name)
    keyframes = parse_string_schedule(text, name)
    if max_frames == 0:
        return ()
    resolved = resolve_keyframes(keyframes, max_frames, seed=-1, name=name)
    values: list[str] = [resolved[0][1].value_text] * resolved[0][0]
    for position, (frame, key) in enumerate(resolved):
        end = resolved[position + 1][0] if position + 1 < len(resolved) else max_frames
        values.extend([key.value_text] * (end - frame))
    return tuple(values)


def resolve_keyframes(keyframes: tuple[Keyframe, ...], max_frames: int, *, seed: int = -1,
                      name: str = "schedule") -> list[tuple[int, Keyframe]]:
    """(frame, keyframe) pairs inside 0..max_frames-1, sorted; a repeated frame keeps its last keyframe."""
    by_frame: dict[int, Keyframe] = {}
    constants = {"max_f": float(max_frames - 1), "s": float(seed)}
    for key in keyframes:
        frame = key.frame if key.frame is not None else _frame_of(key, constants, name)
        by_frame.pop(frame, None)
        by_frame[frame] = key
    inside = sorted((frame, key) for frame, key in by_frame.items() if 0 <= frame < max_frames)
    if not inside:
        raise ScheduleError(f"no keyframe falls inside frames 0..{max_frames - 1}", schedule_name=name,
                            fix=f"add a keyframe between 0 and {max_frames - 1}, e.g. 0: (1)")
    return inside


def _frame_of(key: Keyframe, constants: dict[str, float], name: str) -> int:
    """The frame of an expression key such as `max_f-2`, truncated toward zero like the original's int()."""
    try:
        value = evaluate(key.frame_text, constants)
    except ExpressionError as exc:
        raise key.error(f"frame key: {exc.reason}", exc.fix, name=name, position=key.frame_offset + 1) from exc
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise key.error(f"frame key {key.frame_text!r} is not a finite number", "use max_f, s and numbers",
                        name=name, position=key.frame_offset + 1)
    return math.trunc(value)


def _expression_segment(key: Keyframe, start: int, end: int, constants: dict[str, float], name: str,
                        variables: ScheduleVariables) -> np.ndarray:
    """An expression keyframe evaluated at every frame of its segment with one numexpr call."""
    t = np.arange(start, end, dtype=np.float64)
    try:
        result = evaluate(key.value_text, {"t": t, **constants, **variables.at(t)})
    except ExpressionError as exc:
        raise key.error(exc.reason, exc.fix, name=name) from exc
    segment = np.broadcast_to(np.asarray(result, dtype=np.float64), t.shape)
    finite = np.isfinite(segment)
    if not finite.all():
        bad = int(np.argmin(finite))
        raise key.error(f"the value is {segment[bad]} at frame {start + bad}", _FINITE_FIX, name=name)
    return segment


def _fill_between_keyframes(values: np.ndarray) -> np.ndarray:
    """Hold the first and last values outward and interpolate the gaps linearly (as pandas did)."""
    known = ~np.isnan(values)
    frames = np.flatnonzero(known)
    gaps = np.flatnonzero(~known)
    if gaps.size:
        values[gaps] = np.interp(gaps, frames, values[frames])
    return values


def _check_frame_count(max_frames: int, name: str) -> None:
    """max_frames must be a whole number within 0..MAX_FRAMES."""
    if isinstance(max_frames, bool) or not isinstance(max_frames, int | np.integer) \
            or not 0 <= max_frames <= MAX_FRAMES:
        raise ScheduleError(f"the frame count {max_frames!r} is not a whole number in 0..{MAX_FRAMES}",
                            schedule_name=name, fix="set max_frames to a positive whole number")
