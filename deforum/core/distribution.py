"""Keyframe distribution (the Forge fork's experimental core): which frames are diffused, why, at which strength."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

Distribution = Literal["Off", "Keyframes Only", "Additive", "Redistributed"]
StrengthKey = Literal["strength_schedule", "keyframe_strength_schedule"]
DISTRIBUTIONS: tuple[Distribution, ...] = ("Off", "Keyframes Only", "Additive", "Redistributed")


@dataclass(frozen=True)
class DiffusedFrame:
    """One frame the model diffuses: its index, why it is diffused, and the schedule its strength comes from."""

    frame: int
    reasons: tuple[str, ...]
    strength_key: StrengthKey


def uniform_frames(max_frames: int, count: int) -> list[int]:
    """`count` frames spread evenly over 0..max_frames−1, first and last included (the fork's uniform indexes)."""
    if count < 2:
        return sorted({0, max_frames - 1})
    return [int(n * (max_frames - 1) / (count - 1)) for n in range(count)]


def cadence_count(max_frames: int, cadence: int) -> int:
    """The fork's number of uniform diffusion frames for a cadence: 1 + max_frames // cadence."""
    return 1 + int(max_frames / max(1, cadence))


def deforum_keyframes(prompt_frames: Sequence[int], max_frames: int) -> list[int]:
    """Prompt keyframes (the first moved to frame 0) plus the last frame; frames outside the render are dropped."""
    frames = sorted(set(prompt_frames)) or [0]
    frames[0] = 0
    outside = [f for f in frames if not 0 <= f < max_frames]
    kept = sorted({f for f in frames if 0 <= f < max_frames} | {max_frames - 1})
    if outside:
        log.warning("Keyframe distribution: %d prompt keyframe(s) outside frames 0..%d are not diffused.",
                    len(outside), max_frames - 1)
    return kept


def _redistributed(uniform: list[int], keyframes: Sequence[int]) -> list[int]:
    """Each keyframe replaces the closest uniform frame (never the first or last one); the count stays."""
    chosen = set(uniform)
    for key in keyframes:
        if key in chosen:
            continue
        inner = sorted(chosen)[1:-1]
        if not inner:
            log.warning("Keyframe distribution 'Redistributed': no frame between the first and last to replace "
                        "with keyframe %d; lower diffusion_cadence to diffuse it.", key)
            continue
        chosen.remove(min(inner, key=lambda frame: (abs(frame - key), frame)))
        chosen.add(key)
    return sorted(chosen)


def distributed_frame_indexes(mode: Distribution, max_frames: int, cadence: int,
                              keyframes: Sequence[int]) -> list[int]:
    """The diffused frames of a distribution mode other than Off, sorted."""
    uniform = uniform_frames(max_frames, cadence_count(max_frames, cadence))
    if mode == "Keyframes Only":
        return sorted(set(keyframes) | {0})
    if mode == "Additive":
        return sorted(set(uniform) | set(keyframes))
    if mode == "Redistributed":
        return _redistributed(uniform, keyframes)
    raise ValueError(f"Keyframe distribution {mode!r} has no distributed frames; 'Off' uses the cadence plan.")


def diffused_frames(mode: Distribution, max_frames: int, cadence: int, prompt_frames: Sequence[int],
                    parseq_keyframes: Sequence[int] | None = None) -> tuple[DiffusedFrame, ...]:
    """The diffused frames with their reasons and strength schedule, as the fork chose them.

    Prompt keyframes (or Parseq keyframes when a manifest is used) drive the distribution; the fork reads
    `strength_schedule` on Deforum keyframes (and always with Parseq) and `keyframe_strength_schedule` elsewhere.
    """
    if mode not in DISTRIBUTIONS[1:]:
        raise ValueError(f"Setting 'keyframe_distribution': {mode!r} is not one of {', '.join(DISTRIBUTIONS[1:])}.")
    deforum_keys = deforum_keyframes(prompt_frames, max_frames)
    parseq = parseq_keyframes is not None
    keys = sorted({f for f in parseq_keyframes if 0 <= f < max_frames}) if parseq else deforum_keys
    frames = distributed_frame_indexes(mode, max_frames, cadence, keys)
    prompt_set, key_set, uniform = set(prompt_frames), set(keys), set(
        uniform_frames(max_frames, cadence_count(max_frames, cadence)))
    result = []
    for frame in frames:
        reasons = [name for name, hit in (
            ("first frame", frame == 0), ("last frame", frame == max_frames - 1),
            ("parseq keyframe" if parseq else "prompt keyframe", frame in key_set and (parseq or frame in prompt_set)),
            ("cadence", mode in ("Additive", "Redistributed") and frame in uniform and frame not in key_set),
        ) if hit]
        strength: StrengthKey = "strength_schedule" if parseq or frame in deforum_keys \
            else "keyframe_strength_schedule"
        result.append(DiffusedFrame(frame, tuple(reasons), strength))
    return tuple(result)


def experimental_core_strength(scheduled: float) -> float:
    """The img2img strength the fork's experimental core used: the schedule value became the denoising strength.

    The fork inverted the value twice (`1 − value` passed on, `1 − strength` as denoise), so a strength schedule of
    0.85 denoised at 0.85; this returns our strength (denoise = 1 − strength) for the same result.
    """
    return 1.0 - min(1.0, max(0.0, float(scheduled)))


def shown_distribution(mode: str, animation_mode: str) -> str:
    """The distribution a render uses: keyframe distribution needs 2D or 3D motion; other modes plan as Off."""
    if mode != "Off" and animation_mode not in ("2D", "3D"):
        log.warning("keyframe_distribution %r applies to 2D and 3D only; %s renders without it.", mode,
                    animation_mode)
        return "Off"
    return mode
