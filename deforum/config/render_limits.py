"""Check-time limits derived from what each setting drives: memory (pixels, kernels, prompt text) and geometry.

Run by `settings check`, by every load of a settings file and by API submission, so a value that would exhaust
memory or divide by zero is refused before anything renders, with the key (and frame) named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from deforum.models.settings import Settings

MAX_PIXELS = 4096 * 4096
MAX_PROMPT_TEXT_BYTES = 256 * 1024 * 1024
SMALLEST_DIVISOR = 1e-6
GEOMETRY_FIX = "use a value that does not make the camera degenerate"


def render_limit_problems(settings: Settings) -> list[str]:
    """Every size or geometry problem of settings whose schedules already parse, one message each."""
    from deforum.animation.schedules import ScheduleError

    problems = _pixel_problems(settings)
    checks: tuple[Callable[[Settings], Iterator[str]], ...] = (_kernel_problems, _geometry_problems,
                                                               _flip_problems, _prompt_problems)
    for check in checks:
        try:
            problems += list(check(settings))
        except ScheduleError as err:
            problems.append(str(err))
    return problems


def _series(settings: Settings, key: str) -> np.ndarray:
    """The per-frame values of a numeric schedule, as a render evaluates them."""
    from deforum.animation.schedules import evaluate_schedule

    return evaluate_schedule(settings[key], int(settings["max_frames"]), seed=int(settings["seed"]), name=key)


def _first_bad(key: str, values: np.ndarray, bad: np.ndarray, what: str, fix: str) -> Iterator[str]:
    """One message for the first frame where `bad` holds."""
    if bad.any():
        frame = int(np.argmax(bad))
        yield f"Setting '{key}': the value {values[frame]:g} at frame {frame} {what}. Fix: {fix}."


def _pixel_problems(settings: Settings) -> list[str]:
    """W×H bounds every frame buffer, depth map and warp grid."""
    width, height = int(settings["W"]), int(settings["H"])
    if width * height <= MAX_PIXELS:
        return []
    return [f"Setting 'W': {width}×{height} is {width * height} pixels per frame, over the limit of {MAX_PIXELS} "
            f"(4096×4096). Fix: lower W or H (upscale the video afterwards)."]


def _kernel_problems(settings: Settings) -> Iterator[str]:
    """The sharpening kernel cannot be larger than the image it blurs."""
    limit = max(int(settings["W"]), int(settings["H"]))
    values = _series(settings, "kernel_schedule")
    yield from _first_bad("kernel_schedule", values, np.abs(values) > limit,
                          f"is larger than the image ({limit} pixels)", f"keep the kernel between 0 and {limit}")


def _geometry_problems(settings: Settings) -> Iterator[str]:
    """3D projection: tan(fov/2), the aspect ratio and far - near divide."""
    if settings["animation_mode"] != "3D":
        return
    fov = _series(settings, "fov_schedule")
    tan_half = np.tan(np.radians(fov) / 2.0)
    yield from _first_bad("fov_schedule", fov, ~(np.abs(tan_half) > SMALLEST_DIVISOR) | (np.abs(tan_half) > 1e6),
                          "gives a degenerate field of view", "use a field of view between 1 and 179 degrees")
    aspect = _series(settings, "aspect_ratio_schedule")
    yield from _first_bad("aspect_ratio_schedule", aspect, np.abs(aspect) < SMALLEST_DIVISOR, "divides by zero",
                          "use an aspect ratio such as 1.0 (or W/H)")
    near, far = _series(settings, "near_schedule"), _series(settings, "far_schedule")
    yield from _first_bad("far_schedule", far, np.abs(far - near) < SMALLEST_DIVISOR,
                          "equals near_schedule, so far - near divides by zero",
                          "keep far_schedule well above near_schedule, e.g. near 200 and far 10000")


def _flip_problems(settings: Settings) -> Iterator[str]:
    """The perspective flip divides by sin(fv/2) and cos(fv/2)."""
    if not settings["enable_perspective_flip"]:
        return
    fv = _series(settings, "perspective_flip_fv")
    half = np.radians(fv / 2.0)
    degenerate = (np.abs(np.sin(half)) < SMALLEST_DIVISOR) | (np.abs(np.cos(half)) < SMALLEST_DIVISOR)
    yield from _first_bad("perspective_flip_fv", fv, degenerate, "divides by zero in the perspective flip",
                          "use a field of view between 1 and 179 degrees, e.g. 53")


def _prompt_problems(settings: Settings) -> Iterator[str]:
    """Per-frame prompt text (frames × prompt bytes) must fit in memory."""
    from deforum.prompt.schedule import PromptError, merge_shared_prompts, prompt_segments

    merged = merge_shared_prompts(dict(settings["prompts"]), settings["animation_prompts_positive"],
                                  settings["animation_prompts_negative"])
    try:
        segments = prompt_segments(merged, int(settings["max_frames"]), int(settings["seed"]))
    except PromptError:
        return
    total = sum(len(prompt.encode()) * (end - start) for start, end, _, prompt in segments)
    if total > MAX_PROMPT_TEXT_BYTES:
        yield (f"Setting 'prompts': the prompts give {total / 2**20:.0f} MiB of text over {settings['max_frames']} "
               f"frames (prompt bytes × frames), over the limit of {MAX_PROMPT_TEXT_BYTES // 2**20} MiB. "
               f"Fix: shorten the prompts or render fewer frames.")

