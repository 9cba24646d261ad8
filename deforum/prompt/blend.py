"""Interpolation mode's prompt blending: `(A):w_a AND (B):w_b` between keyframes, with the original's weights.

Kept quirk: in interpolation mode the original set max_f = max_frames (not max_frames - 1) for prompt keys and
backtick maths, and let keys outside the frame range still steer the blend; both are reproduced here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from deforum.animation.variables import NO_MUSIC, ScheduleVariables
from deforum.prompt.schedule import (
    NEG_MARKER,
    PromptError,
    checked_prompts,
    expand_backticks,
    merge_shared_prompts,
    prompt_keyframes,
    split_negative,
)

logger = logging.getLogger(__name__)


def blend_prompt_pair(current: str, following: str, next_weight: float) -> str:
    """The composable-diffusion blend of two keyframe prompts, text for text as the original built it."""
    current_weight = 1 - next_weight
    current_positive, current_negative = _halves(current)
    next_positive, next_negative = _halves(following)
    text = ""
    if current_positive:
        text += f" ({current_positive}):{current_weight}"
    if current_positive and next_positive:
        text += " AND "
    if next_positive:
        text += f" ({next_positive}):{next_weight}"
    if len(current_negative) > 1 or len(next_negative) > 1:
        text += f" {NEG_MARKER} "
        if len(current_negative) > 1:
            text += f" ({current_negative}):{current_weight}"
        if len(current_negative) > 1 and len(next_negative) > 1:
            text += " AND "
        if len(next_negative) > 1:
            text += f" ({next_negative}):{next_weight}"
    return text


def _halves(prompt: str) -> tuple[str, str]:
    """Text before the first `--neg` and between it and a second one, unstripped (a missing half is empty)."""
    parts = prompt.split(NEG_MARKER)
    return parts[0], parts[1] if len(parts) > 1 else ""


def interpolated_prompt_texts(prompts: Mapping[str, str], max_frames: int, *, seed: int = -1) -> list[str]:
    """Per-frame prompt text of interpolation mode before backtick maths (keyframes raw, blends between)."""
    keyframes = prompt_keyframes(prompts, max_frames, seed)
    if not keyframes:
        raise PromptError("there are no prompts", fix='add at least one prompt, e.g. {"0": "a cat"}')
    for frame, key, prompt in keyframes:
        if " AND " in prompt:
            logger.warning("Prompt %r (frame %d) uses AND; blending it with its neighbours may look odd", key, frame)
    positions = np.searchsorted([entry[0] for entry in keyframes], np.arange(max_frames), side="right") - 1
    return [_text_at(keyframes, frame, int(position)) for frame, position in enumerate(positions)]


def _text_at(keyframes: list[tuple[int, str, str]], frame: int, position: int) -> str:
    """The raw keyframe prompt at a keyframe (or outside them), the blend of its neighbours between them."""
    if position < 0:
        return keyframes[0][2]
    current_frame, _, current = keyframes[position]
    if frame == current_frame or position + 1 == len(keyframes):
        return current
    next_frame, _, following = keyframes[position + 1]
    weight_step = 1 / (next_frame - current_frame)
    return blend_prompt_pair(current, following, weight_step * (frame - current_frame))


def build_interpolated_prompt_schedule(prompts: Mapping[str, str], max_frames: int, *, positive: str = "",
                                       negative: str = "", seed: int = -1,
                                       variables: ScheduleVariables = NO_MUSIC) -> tuple[tuple[str, str], ...]:
    """Per-frame (positive, negative) prompts of interpolation mode: merged, blended, backticks evaluated."""
    if max_frames <= 0:
        return ()
    merged = merge_shared_prompts(checked_prompts(prompts), positive, negative)
    texts = interpolated_prompt_texts(merged, max_frames, seed=seed)
    result: list[tuple[str, str]] = []
    for frame, text in enumerate(texts):
        expanded = expand_backticks(text.strip(), np.array([frame]), max_f=max_frames, seed=seed,
                                    variables=variables)[0]
        if expanded.endswith(NEG_MARKER):
            expanded = expanded[: -len(NEG_MARKER)]
        result.append(split_negative(expanded))
    return tuple(result)
