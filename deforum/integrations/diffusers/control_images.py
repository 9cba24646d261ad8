"""Control images for standalone ControlNet: a few cheap preprocessors and the extension's resize modes (cv2)."""

from __future__ import annotations

import cv2
import numpy as np

from deforum.integrations.features.controlnet import ControlNetError
from deforum.models.generation import ControlNetUnit

PREPROCESSORS = ("none", "canny", "invert")
MODULE_ALIASES = {"invert (from white bg & black line)": "invert"}
JUST_RESIZE, CROP, FILL = "Just Resize", "Crop and Resize", "Resize and Fill"
RESIZE_ALIASES = {"Inner Fit (Scale to Fit)": CROP, "Outer Fit (Shrink to Fit)": FILL,
                  "Scale to Fit (Inner Fit)": CROP, "Envelope (Outer Fit)": FILL}


def resize_mode(label: str) -> str:
    """The extension's resize mode for a Deforum label ('Inner Fit (Scale to Fit)' is 'Crop and Resize')."""
    mode = RESIZE_ALIASES.get(label, label)
    if mode not in (JUST_RESIZE, CROP, FILL):
        raise ValueError(f"unknown ControlNet resize mode {label!r}")
    return mode


def rgb(image: np.ndarray) -> np.ndarray:
    """An image as H×W×3 uint8 (grey repeated, alpha dropped)."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 2:
        array = array[..., None]
    if array.shape[2] == 1:
        return np.repeat(array, 3, axis=2)
    return np.ascontiguousarray(array[..., :3])


def _resized(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """cv2 resize with area averaging when shrinking and bicubic when enlarging."""
    shrinking = width * height < image.shape[0] * image.shape[1]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def pixel_perfect_resolution(image: np.ndarray, width: int, height: int, mode: str) -> int:
    """The preprocessor resolution that lands the image's short side on the frame ('Pixel Perfect')."""
    raw_h, raw_w = image.shape[:2]
    scales = (height / raw_h, width / raw_w)
    scale = min(scales) if mode == FILL else max(scales)
    return int(np.round(scale * min(raw_h, raw_w)))


def canny(image: np.ndarray, resolution: int, low: float, high: float) -> np.ndarray:
    """Canny edges (white on black) with the image's short side scaled to `resolution` first."""
    h, w = image.shape[:2]
    scale = max(int(resolution), 1) / min(h, w)
    small = _resized(image, max(int(round(w * scale)), 1), max(int(round(h * scale)), 1))
    return rgb(cv2.Canny(small, float(low), float(high)))


def fit(image: np.ndarray, width: int, height: int, mode: str) -> np.ndarray:
    """The image at width×height: stretched, scaled to cover and centre-cropped, or scaled in and padded."""
    if mode == JUST_RESIZE:
        return _resized(image, width, height)
    h, w = image.shape[:2]
    scale = min(height / h, width / w) if mode == FILL else max(height / h, width / w)
    new_w, new_h = max(int(round(w * scale)), 1), max(int(round(h * scale)), 1)
    scaled = _resized(image, new_w, new_h)
    if mode == CROP:
        top, left = (new_h - height) // 2, (new_w - width) // 2
        return np.ascontiguousarray(scaled[top:top + height, left:left + width])
    borders = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    canvas = np.tile(np.median(borders, axis=0).astype(np.uint8), (height, width, 1))
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top:top + new_h, left:left + new_w] = scaled
    return canvas


def control_image(unit: ControlNetUnit, width: int, height: int) -> np.ndarray:
    """The unit's control image at the frame size: preprocessed by its module, then fitted by its resize mode."""
    module = MODULE_ALIASES.get(unit.module.strip().lower(), unit.module.strip().lower())
    mode = resize_mode(unit.resize_mode)
    image = rgb(unit.image)
    if module == "canny":
        resolution = pixel_perfect_resolution(image, width, height, mode) if unit.pixel_perfect \
            else unit.processor_res
        image = canny(image, resolution, unit.threshold_a, unit.threshold_b)
    elif module == "invert":
        image = 255 - image
    elif module != "none":
        n = unit.number
        raise ControlNetError(
            f"ControlNet unit {n}: preprocessor {unit.module!r} (setting 'cn_{n}_module') is not available without "
            f"the WebUI. Use one of {', '.join(PREPROCESSORS)}, or preprocess the input yourself and use 'none'.")
    return fit(image, width, height, mode)
