"""Per-frame prompts: keyframe prompts held forward (and back before the first), backtick maths, `--neg` split."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from deforum.animation.expressions import ExpressionError, evaluate
from deforum.animation.variables import NO_MUSIC, ScheduleVariables
from deforum.models.errors import DeforumError
from deforum.models.prompt_merge import NEG_MARKER, merge_shared_prompts

__all__ = [
    "NEG_MARKER", "PromptError", "build_prompt_schedule", "checked_prompts", "expand_backticks",
    "keyframe_prompt_texts", "merge_shared_prompts", "prompt_keyframes", "prompt_segments", "split_negative",
]

_BACKTICK = re.compile(r"`.*?`")
_DIGITS = re.compile(r"[0-9]+")


class PromptError(DeforumError, ValueError):
    """A prompt keyframe that cannot be read or whose backtick maths fails; names the key and frame."""

    def __init__(self, reason: str, *, key: str | None = None, frame: int | None = None, fix: str = "") -> None:
        self.key = key
        self.frame = frame
        self.reason = reason.rstrip(".")
        self.fix = fix or 'write prompts as {"0": "a cat", "max_f/2": "a dog `0.5+t/100`"}'
        where = "Prompts"
        if key is not None:
            where += f", key {key!r}"
        if frame is not None:
            where += f", frame {frame}"
        super().__init__(f"{where}: {self.reason}. Fix: {self.fix}.")


def split_negative(prompt: str) -> tuple[str, str]:
    """(positive, negative) split at `--neg`; text after a second `--neg` joins the negative, as the original."""
    positive, *negatives = prompt.strip().split(NEG_MARKER)
    return positive.strip(), "".join(negatives).strip()


def prompt_keyframes(prompts: Mapping[str, str], max_f: int, seed: int) -> list[tuple[int, str, str]]:
    """(frame, key, prompt) sorted by frame; keys are whole numbers or expressions of max_f and s; last wins."""
    by_frame: dict[int, tuple[str, str]] = {}
    for key, prompt in checked_prompts(prompts).items():
        frame = _key_frame(key, max_f, seed)
        by_frame.pop(frame, None)
        by_frame[frame] = (key, prompt)
    return sorted((frame, key, prompt) for frame, (key, prompt) in by_frame.items())


def checked_prompts(prompts: Mapping[str, str]) -> dict[str, str]:
    """The prompts with text keys, after checking that every prompt is text."""
    if not isinstance(prompts, Mapping):
        raise PromptError(f"prompts must be a mapping of frame to prompt, not {type(prompts).__name__}")
    for key, prompt in prompts.items():
        if not isinstance(prompt, str):
            raise PromptError(f"the prompt is {type(prompt).__name__}, not text", key=str(key))
    return {str(key): prompt for key, prompt in prompts.items()}


def _key_frame(key: str, max_f: int, seed: int) -> int:
    """The frame of a prompt key, truncated toward zero like the original's int()."""
    if _DIGITS.fullmatch(key):
        return int(key)
    try:
        value = evaluate(key, {"max_f": max_f, "s": seed})
    except ExpressionError as exc:
        raise PromptError(f"the key is not a frame number or formula: {exc.reason}", key=key,
                          fix=f"use a whole number or a formula of max_f and s, e.g. \"max_f/2\" ({exc.fix})") from exc
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise PromptError("the key does not give a finite frame number", key=key)
    return math.trunc(value)


def expand_backticks(text: str, frames: np.ndarray, *, max_f: int, seed: int, key: str | None = None,
                     variables: ScheduleVariables = NO_MUSIC) -> list[str]:
    """`text` for each frame with every `expr` replaced by its value at t=frame (one evaluation per expression)."""
    pieces = _BACKTICK.split(text)
    expressions = _BACKTICK.findall(text)
    if not expressions:
        return [text] * len(frames)
    columns = [_backtick_values(expr[1:-1], frames, max_f, seed, key, variables) for expr in expressions]
    rows: list[str] = []
    for row in range(len(frames)):
        parts = [pieces[0]]
        for column, piece in zip(columns, pieces[1:], strict=True):
            parts.append(column[row])
            parts.append(piece)
        rows.append("".join(parts))
    return rows


def _backtick_values(expression: str, frames: np.ndarray, max_f: int, seed: int, key: str | None,
                     variables: ScheduleVariables) -> list[str]:
    """One backtick expression evaluated at every frame, written as the original's str() of the result."""
    t = np.asarray(frames, dtype=np.int64)
    try:
        result = evaluate(expression, {"t": t, "max_f": int(max_f), "s": int(seed), **variables.at(t)})
    except ExpressionError as exc:
        first = int(t[0]) if t.size else None
        raise PromptError(f"backtick maths `{expression}`: {exc.reason}", key=key, frame=first,
                          fix=exc.fix) from exc
    values = np.broadcast_to(np.asarray(result), t.shape)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        bad = int(np.argmin(np.isfinite(values)))
        raise PromptError(f"backtick maths `{expression}` gives {values[bad]}", key=key, frame=int(t[bad]),
                          fix="keep the formula finite (no division by zero, log(0), sqrt of negatives)")
    return [str(value) for value in values.tolist()]


def build_prompt_schedule(prompts: Mapping[str, str], max_frames: int, *, positive: str = "",
                          negative: str = "", seed: int = -1, variables: ScheduleVariables = NO_MUSIC
                          ) -> tuple[tuple[str, str], ...]:
    """Per-frame (positive, negative) prompts with the shared prompts merged and backticks evaluated."""
    if max_frames <= 0:
        return ()
    merged = merge_shared_prompts(checked_prompts(prompts), positive, negative)
    result: list[tuple[str, str]] = []
    for start, end, key, prompt in prompt_segments(merged, max_frames, seed):
        expanded = expand_backticks(prompt, np.arange(start, end), max_f=max_frames - 1, seed=seed, key=key,
                                    variables=variables)
        result.extend(split_negative(text) for text in expanded)
    return tuple(result)


def keyframe_prompt_texts(prompts: Mapping[str, str], max_frames: int, *, positive: str = "",
                          negative: str = "", seed: int = -1) -> tuple[str, ...]:
    """Per-frame merged keyframe text, held like the original's prompt series (backticks not evaluated)."""
    if max_frames <= 0:
        return ()
    merged = merge_shared_prompts(checked_prompts(prompts), positive, negative)
    keyframes = _inside_or_nearest(prompt_keyframes(merged, max_frames - 1, seed), max_frames)
    texts: list[str] = []
    for position, (frame, _key, prompt) in enumerate(keyframes):
        end = keyframes[position + 1][0] if position + 1 < len(keyframes) else max_frames
        texts.extend([prompt] * (end - (0 if position == 0 else frame)))
    return tuple(texts)
def prompt_segments(prompts: Mapping[str, str], max_frames: int, seed: int) -> list[tuple[int, int, str, str]]:
    """(first frame, end frame, key, prompt) of each keyframe prompt that is shown, covering 0..max_frames."""
    keyframes = _inside_or_nearest(prompt_keyframes(prompts, max_frames - 1, seed), max_frames)
    ends = [frame for frame, _, _ in keyframes[1:]] + [max_frames]
    return [(0 if position == 0 else frame, end, key, prompt)
            for position, ((frame, key, prompt), end) in enumerate(zip(keyframes, ends, strict=True))]


def _inside_or_nearest(keyframes: Sequence[tuple[int, str, str]], max_frames: int) -> list[tuple[int, str, str]]:
    """Keyframes inside 0..max_frames-1; when none is, the one nearest the range fills every frame."""
    if not keyframes:
        raise PromptError("there are no prompts", fix='add at least one prompt, e.g. {"0": "a cat"}')
    inside = [entry for entry in keyframes if 0 <= entry[0] < max_frames]
    if inside:
        return inside
    after = [entry for entry in keyframes if entry[0] >= max_frames]
    frame, key, prompt = after[0] if after else keyframes[-1]
    return [(0, key, prompt)]
