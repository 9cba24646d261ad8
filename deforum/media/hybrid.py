"""Hybrid-video compositing: blend the previous frame toward a video frame, optionally through a grey mask.

The order of operations is the original's ``hybrid_composite``: build the mask (Depth, Video Depth, Blend or
Difference), invert it, make it grey, equalise (Before/Both), apply contrast, auto-contrast with percentile
cutoffs, equalise (After/Both), composite previous-over-video through the mask, then blend the previous frame
toward that composite by ``alpha``. Every step is the Pillow operation the original used, on RGB frames (the
original converted its BGR frames to RGB first, so colours and grey weights are the same).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops, ImageEnhance, ImageOps

MASK_TYPES = ("None", "Depth", "Video Depth", "Blend", "Difference")
EQUALIZE_CHOICES = ("None", "Before", "After", "Both")
COMPOSITE_MODES = ("None", "Normal", "Before Motion", "After Generation")


def _rgb(image: np.ndarray, name: str) -> Image.Image:
    """A uint8 H×W×3 array as a Pillow RGB image; ValueError naming the argument otherwise."""
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"{name} must be an H×W×3 uint8 RGB image, got {array.dtype} {array.shape}")
    return Image.fromarray(array)


def _grey_source(image: np.ndarray | None, name: str, size: tuple[int, int]) -> Image.Image:
    """A saved-depth-style uint8 image (H×W or H×W×3 grey) as a Pillow image of the frame's size."""
    if image is None:
        raise ValueError(f"mask type {name!r} needs its depth image; none was given")
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.shape[1], array.shape[0]) != size:
        raise ValueError(f"the {name!r} mask image must be uint8 {size[1]}×{size[0]}, got {array.dtype} {array.shape}")
    return Image.fromarray(array)


def auto_contrast_mask(mask: np.ndarray, cutoff_low: float, cutoff_high: float) -> np.ndarray:
    """Stretch the mask's [low, high] percentiles to 0..255 (clipped, truncated); equal percentiles: unchanged."""
    values = np.asarray(mask, dtype=np.float64)
    low, high = np.percentile(values, cutoff_low), np.percentile(values, cutoff_high)
    if not high > low:
        return np.asarray(mask, dtype=np.uint8).copy()
    return np.clip(255 * (values - low) / (high - low), 0, 255).astype(np.uint8)


def composite_mask(prev: Image.Image, video: Image.Image, *, mask_type: str, mask_blend_alpha: float,
                   depth: np.ndarray | None = None, video_depth: np.ndarray | None = None) -> Image.Image | None:
    """The raw mask of a mask type (before inversion and grading); None for "None"."""
    if mask_type == "Depth":
        return _grey_source(depth, mask_type, prev.size)
    if mask_type == "Video Depth":
        return _grey_source(video_depth, mask_type, prev.size)
    if mask_type == "Blend":
        return Image.blend(ImageOps.grayscale(prev), ImageOps.grayscale(video), mask_blend_alpha)
    if mask_type == "Difference":
        return ImageChops.difference(ImageOps.grayscale(prev), ImageOps.grayscale(video))
    if mask_type == "None":
        return None
    raise ValueError(f"hybrid_comp_mask_type must be one of {MASK_TYPES}, got {mask_type!r}")


def grade_mask(mask: Image.Image, *, equalize: str, mask_contrast: float, auto: bool, cutoff_low: float,
               cutoff_high: float) -> Image.Image:
    """Grey, equalise (Before/Both), contrast, auto-contrast (when on), equalise (After/Both)."""
    if equalize not in EQUALIZE_CHOICES:
        raise ValueError(f"hybrid_comp_mask_equalize must be one of {EQUALIZE_CHOICES}, got {equalize!r}")
    mask = ImageOps.grayscale(mask)
    if equalize in ("Before", "Both"):
        mask = ImageOps.equalize(mask)
    mask = ImageEnhance.Contrast(mask).enhance(mask_contrast)
    if auto:
        mask = Image.fromarray(auto_contrast_mask(np.asarray(mask), cutoff_low, cutoff_high))
    if equalize in ("After", "Both"):
        mask = ImageOps.equalize(mask)
    return mask


def masked_composite(prev_image: np.ndarray, video_frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Previous frame where the grey mask is white, video frame where it is black (Pillow's composite)."""
    prev, video = _rgb(prev_image, "prev_image"), _rgb(video_frame, "video_frame")
    return np.array(Image.composite(prev, video, Image.fromarray(np.asarray(mask, dtype=np.uint8))))


def hybrid_composite(prev_image: np.ndarray, video_frame: np.ndarray, *, alpha: float, mask_type: str,
                     mask_inverse: bool, equalize: str, auto_contrast: bool, cutoff_low: float,
                     cutoff_high: float, mask_contrast: float, mask_blend_alpha: float,
                     depth: np.ndarray | None = None,
                     video_depth: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(previous frame blended by `alpha` toward the masked composite, final grey mask or None); depths: uint8."""
    prev, video = _rgb(prev_image, "prev_image"), _rgb(video_frame, "video_frame")
    if prev.size != video.size:
        raise ValueError(f"prev_image {prev.size} and video_frame {video.size} must have the same size")
    mask = composite_mask(prev, video, mask_type=mask_type, mask_blend_alpha=mask_blend_alpha, depth=depth,
                          video_depth=video_depth)
    if mask is None:
        return np.array(Image.blend(prev, video, alpha)), None
    if mask_inverse:
        mask = ImageOps.invert(mask)
    mask = grade_mask(mask, equalize=equalize, mask_contrast=mask_contrast, auto=auto_contrast,
                      cutoff_low=cutoff_low, cutoff_high=cutoff_high)
    composite = Image.composite(prev, video, mask)
    return np.array(Image.blend(prev, composite, alpha)), np.array(mask)
