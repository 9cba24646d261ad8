"""Inpainting masks: loading (mask file, init-image alpha), brightness/contrast, invert, blank checks, blur, overlay.

A mask is an H×W uint8 array, 255 (white) where the frame may change, as the WebUI's ``image_mask``. Sizes are
(width, height), as ``frames_io.load_image_source`` takes them.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageEnhance, UnidentifiedImageError

from deforum.media.frames_io import ImageSourceError, load_image_source, local_path

Size = tuple[int, int]


def as_mask(image: np.ndarray, size: Size | None = None) -> np.ndarray:
    """An H×W uint8 mask from a bool or uint8 H×W, H×W×3 or H×W×4 array (PIL's luma), Lanczos-resized to size."""
    array = np.asarray(image)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * np.uint8(255)
    if array.dtype != np.uint8:
        raise TypeError(f"a mask must be a uint8 or bool array, got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[2] in (3, 4):
        array = np.array(Image.fromarray(np.ascontiguousarray(array[..., :3])).convert("L"))
    elif array.ndim != 2:
        raise ValueError(f"a mask must be H×W, H×W×3 or H×W×4, got shape {array.shape}")
    if size is not None and (array.shape[1], array.shape[0]) != tuple(size):
        array = np.array(Image.fromarray(array).resize(tuple(size), resample=Image.LANCZOS))
    return array


def adjust_mask(image: np.ndarray, brightness: float = 1.0, contrast: float = 1.0) -> np.ndarray:
    """Brightness, then contrast (PIL ImageEnhance factors, 1 = unchanged) of an RGB or grey image → H×W mask."""
    for name, value in (("mask_brightness_adjust", brightness), ("mask_contrast_adjust", contrast)):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    array = np.asarray(image)
    if array.dtype != np.uint8 or not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise ValueError(f"expected a uint8 H×W or H×W×3 image, got {array.dtype} {array.shape}")
    pil = Image.fromarray(np.ascontiguousarray(array))
    if brightness != 1:
        pil = ImageEnhance.Brightness(pil).enhance(brightness)
    if contrast != 1:
        pil = ImageEnhance.Contrast(pil).enhance(contrast)
    return np.array(pil.convert("L"))


def load_mask_file(path: str, size: Size, *, brightness: float = 1.0, contrast: float = 1.0,
                   setting: str = "mask_file") -> np.ndarray:
    """A mask image from a local file: RGB, Lanczos-resized to size, brightness and contrast adjusted, then grey."""
    return adjust_mask(load_image_source(path, size, setting=setting), brightness, contrast)


def alpha_mask(image: np.ndarray, size: Size | None = None) -> np.ndarray | None:
    """The alpha channel of an H×W×4 image as a mask (Lanczos-resized with the image); None when all 0 or all 255."""
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 4:
        return None
    pil = Image.fromarray(np.ascontiguousarray(array))
    if size is not None and pil.size != tuple(size):
        pil = pil.resize(tuple(size), resample=Image.LANCZOS)
    alpha = np.array(pil.getchannel("A"))
    low, high = int(alpha.min()), int(alpha.max())
    return None if low == high and low in (0, 255) else alpha


def load_alpha_mask(path: str, size: Size, *, setting: str = "init_image") -> np.ndarray | None:
    """The init image file's alpha channel as a mask at size; None when it has none or it is blank."""
    file = local_path(path, setting)
    if not file.is_file():
        raise ImageSourceError(f"{setting}: file not found: {file}. Check the path in the '{setting}' setting.")
    try:
        with Image.open(file) as pil:
            if "A" not in pil.getbands() and "transparency" not in pil.info:
                return None
            rgba = np.asarray(pil.convert("RGBA"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageSourceError(f"{setting}: {file} is not a readable image ({exc}).") from exc
    return alpha_mask(rgba, size)


def invert_mask(mask: np.ndarray) -> np.ndarray:
    """White ↔ black."""
    return np.uint8(255) - as_mask(mask)


def binarize_mask(mask: np.ndarray) -> np.ndarray:
    """Boolean mask as PIL's mode "1" conversion makes it (Floyd–Steinberg dithering of grey levels)."""
    array = as_mask(mask)
    if not np.any((array > 0) & (array < 255)):
        return array > 127
    return np.array(Image.fromarray(array).convert("1"))


def usable_mask(mask: np.ndarray | None, *, invert: bool = False) -> np.ndarray | None:
    """The mask, or None when it would mask out everything (all black, or all white when it is to be inverted)."""
    if mask is None:
        return None
    array = as_mask(mask)
    blank = 255 if invert else 0
    return None if int(array.min()) == int(array.max()) == blank else array


def blur_mask(mask: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur of sigma `radius` with the WebUI's mask-blur kernel (2·⌊2.5·radius + 0.5⌋ + 1 pixels)."""
    array = as_mask(mask)
    if radius <= 0:
        return array.copy()
    size = 2 * int(2.5 * radius + 0.5) + 1
    return cv2.GaussianBlur(array, (size, size), radius)


def do_overlay_mask(image: np.ndarray, background: np.ndarray, mask: np.ndarray, *, invert: bool = False,
                    blur: float = 0) -> np.ndarray:
    """Keep `image` where the mask is white, paste `background` (resized) where black; invert, then blur, first."""
    height, width = image.shape[:2]
    back = np.asarray(background)
    if back.shape[:2] != (height, width):
        back = np.asarray(Image.fromarray(back).resize((width, height), resample=Image.LANCZOS))
    alpha = as_mask(mask, (width, height))
    alpha = invert_mask(alpha) if invert else alpha
    alpha = blur_mask(alpha, blur) if blur > 0 else alpha
    composite = Image.composite(Image.fromarray(image), Image.fromarray(back), Image.fromarray(alpha))
    return np.array(composite)
