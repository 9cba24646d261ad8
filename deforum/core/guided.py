"""Guided images (use_looper): which keyframe image guides a frame, and how strongly it is blended in."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from deforum.animation.expressions import ExpressionError, evaluate
from deforum.animation.keys import AnimationKeys
from deforum.media.frames_io import load_image_source
from deforum.media.image_ops import blend
from deforum.models.errors import DeforumError

DEFAULT_BLEND = 0.07
DEFAULT_SWAP_SPAN = 25


class GuidedImagesError(DeforumError, ValueError):
    """init_images is not a usable JSON object of frame keys to images."""


@dataclass(frozen=True)
class GuidedImages:
    """The guided images in file order, and the frames at which the guide switches to the next one."""

    sources: tuple[str, ...]
    swap_frames: tuple[int, ...]


def _key_frame(key: str, max_frames: int) -> int:
    """A key as a frame number: an integer, or an expression of max_f (= max_frames − 1)."""
    if key.strip().lstrip("-").isdigit():
        return int(key)
    try:
        return int(evaluate(key, {"max_f": max_frames - 1}))
    except (ExpressionError, ValueError, TypeError) as err:
        raise GuidedImagesError(f"Setting 'init_images': key {key!r} is not a frame number or an expression of "
                                f"max_f ({err}).") from None


def parse_guided_images(init_images: str, max_frames: int) -> GuidedImages:
    """Read init_images JSON as the original did (file order decides which image follows which)."""
    try:
        data = json.loads(init_images)
    except json.JSONDecodeError as err:
        raise GuidedImagesError(f"Setting 'init_images' is not valid JSON ({err.msg}, line {err.lineno}).") from None
    if not isinstance(data, dict) or not data:
        raise GuidedImagesError("Setting 'init_images' must be a JSON object of frame keys to image paths.")
    return GuidedImages(tuple(str(v) for v in data.values()), tuple(_key_frame(k, max_frames) for k in data))


def guide_index(guided: GuidedImages, frame: int) -> int:
    """Index of the guide image for a frame: how many later keys the frame has reached."""
    return sum(frame >= swap for swap in guided.swap_frames[1:])


def blend_factor(guided: GuidedImages, keys: AnimationKeys, frame: int) -> float:
    """The original's cosine blend while inside the tweening window after a swap, else 0.07."""
    span = DEFAULT_SWAP_SPAN
    for start, end in zip(guided.swap_frames, guided.swap_frames[1:]):
        if start <= frame <= end and end > start:
            span = end - start
    tweening = keys.value("tweening_frames_schedule", frame)
    if tweening <= 0 or frame % span > tweening:
        return DEFAULT_BLEND
    slope_angle = (frame % tweening) / (tweening / 2)
    return keys.value("blendFactorMax", frame) - keys.value("blendFactorSlope", frame) * math.cos(slope_angle)


def guided_init(init: np.ndarray, guided: GuidedImages, keys: AnimationKeys, frame: int,
                size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(init blended toward the frame's guide image, the colour-correction reference)."""
    guide = load_image_source(guided.sources[guide_index(guided, frame)], size, setting="init_images")
    blended = blend(init, guide, min(1.0, max(0.0, blend_factor(guided, keys, frame))))
    correction = keys.value("color_correction_factor", frame)
    return blended, blend(blended, guide, min(1.0, max(0.0, correction)))
