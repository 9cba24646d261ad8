"""Per-frame pixel operations: contrast, anti-blur (unsharp mask), forced greyscale, cadence blending.

Each reproduces the original's arithmetic; the two-operand ones use exact 8-bit lookup tables, which give the
same bytes as its float64 formulas at a fraction of the cost.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
from PIL import Image

_LEVELS = np.arange(256, dtype=np.float64)
_INT32_LIMIT = 2.0**31


def wrap_to_uint8(values: np.ndarray) -> np.ndarray:
    """Whole float64 values cast to uint8 as the original's ``astype(np.uint8)`` did on x86: modulo 256.

    Values outside the int32 range and NaN become 0 (the CPU's invalid-conversion result).
    """
    inside = np.isfinite(values) & (np.abs(values) < _INT32_LIMIT)
    whole = np.where(inside, values, 0).astype(np.int64)
    return (whole & 0xFF).astype(np.uint8)


def apply_contrast(image: np.ndarray, contrast: float) -> np.ndarray:
    """The original's ``(image * contrast).round().astype(np.uint8)`` on a uint8 image: half to even, wrapping.

    Like the original, levels past 255 wrap around (260 → 4) instead of saturating.
    """
    if contrast == 1:
        return image.copy()
    return cv2.LUT(image, wrap_to_uint8(np.round(_LEVELS * contrast)))


def _odd_kernel(kernel_size: int) -> int:
    """GaussianBlur needs an odd size (or 0, derived from sigma); even sizes are bumped to the next odd one."""
    kernel_size = int(kernel_size)
    if kernel_size < 0:
        raise ValueError(f"kernel size must be >= 0, got {kernel_size}")
    return kernel_size + 1 if kernel_size and kernel_size % 2 == 0 else kernel_size


@functools.lru_cache(maxsize=16)
def sharpen_table(amount: float, threshold: float) -> np.ndarray:
    """65536-entry table indexed by ``image << 8 | blurred``: the original's rounded unsharp-mask value.

    Cached per (amount, threshold); the returned array is read-only.
    """
    image, blurred = _LEVELS[:, None], _LEVELS[None, :]
    sharpened = np.clip(float(amount + 1) * image - float(amount) * blurred, 0, 255).round().astype(np.uint8)
    if threshold > 0:
        wrapped_difference = (image - blurred) % 256
        sharpened = np.where(wrapped_difference < threshold, image.astype(np.uint8), sharpened)
    table = sharpened.ravel()
    table.flags.writeable = False
    return table


def _pair_index(image: np.ndarray, blurred: np.ndarray) -> np.ndarray:
    """``image << 8 | blurred`` as uint16, built by interleaving the bytes (blurred low, image high)."""
    rows = image.shape[0]
    pairs = cv2.merge([blurred.reshape(rows, -1), image.reshape(rows, -1)])
    return pairs.view("<u2").reshape(image.shape)


def unsharp_mask(
    image: np.ndarray,
    kernel_size: int,
    sigma: float,
    amount: float,
    threshold: float = 0,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Anti-blur: ``(amount+1)·image − amount·GaussianBlur(image)``, rounded and clipped (uint8 images).

    With ``threshold`` > 0, pixels whose 8-bit wrapped ``image − blurred`` is below it stay untouched (the
    original subtracted uint8 values, so only slightly brighter-than-blur pixels count as low contrast). With
    a uint8 H×W ``mask``, the sharpened value is kept where the mask is non-zero and the input where it is
    not 255 (the two add, saturating, for grey mask values).
    """
    if amount == 0:
        return image.copy()
    size = _odd_kernel(kernel_size)
    blurred = cv2.GaussianBlur(image, (size, size), sigma)
    sharpened = np.take(sharpen_table(float(amount), float(threshold)), _pair_index(image, blurred), mode="clip")
    if mask is None:
        return sharpened
    mask = np.asarray(mask, dtype=np.uint8)
    kept = cv2.bitwise_and(sharpened, sharpened, mask=mask)
    untouched = cv2.bitwise_and(image, image, mask=255 - mask)
    return cv2.add(untouched, kept)


def to_grayscale(image: np.ndarray, *, pil_weights: bool = False) -> np.ndarray:
    """``color_force_grayscale``: luma copied to three channels.

    OpenCV's weights as the original's warped-frame and cadence paths used; ``pil_weights`` gives PIL's "L"
    conversion, which the original applied to freshly generated frames.
    """
    if pil_weights:
        gray = np.asarray(Image.fromarray(image).convert("L"))
    else:
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)


def blend(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """Cadence tween ``a·(1−alpha) + b·alpha`` in float64, rounded half to even and saturated to uint8."""
    mixed = a * (1.0 - alpha) + b * alpha
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
