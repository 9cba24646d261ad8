"""Pixel-side steps of a generation: init image fitting, masks, masked-area fill, the final overlay, conversions."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

FILL_RADII = ((256, 1), (64, 1), (16, 2), (4, 4), (2, 2), (0, 1))
WIDE_RADIUS = 8


def as_rgb(image: np.ndarray) -> np.ndarray:
    """An H×W×3 uint8 copy of a gray, RGB or RGBA image (floats are read as 0..1 when ≤ 1, else 0..255)."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        scale = 255.0 if array.size and float(np.nanmax(array)) <= 1.0 else 1.0
        array = np.clip(np.nan_to_num(array.astype(np.float32)) * scale, 0, 255).astype(np.uint8)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ValueError(f"init image must be H×W, H×W×3 or H×W×4, got shape {array.shape}")
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return np.ascontiguousarray(array[..., :3])


def fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """The init image at width×height (Lanczos, the WebUI's "just resize")."""
    rgb = as_rgb(image)
    if rgb.shape[:2] == (height, width):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS))


def _blur(mask: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur with the WebUI's kernel size for a mask-blur radius."""
    if radius <= 0:
        return mask
    size = 2 * int(2.5 * radius + 0.5) + 1
    return cv2.GaussianBlur(mask, (size, size), radius)


@dataclass(frozen=True)
class Mask:
    """A prepared inpainting mask: 1 = regenerate. `soft` is the blurred mask, `overlay` the paste-back alpha."""

    soft: np.ndarray
    overlay: np.ndarray

    def latent(self, height: int, width: int) -> np.ndarray:
        """The mask at latent resolution, rounded to 0/1 as the WebUI does."""
        small = cv2.resize(self.soft, (width, height), interpolation=cv2.INTER_AREA)
        return np.around(small).astype(np.float32)


def prepare_mask(mask: np.ndarray, width: int, height: int, *, invert: bool, blur: float) -> Mask:
    """Mask (white = regenerate; gray/RGB/bool/float) → Mask at width×height, inverted and blurred as asked."""
    array = np.asarray(mask)
    if array.ndim == 3:
        array = array[..., :3].mean(axis=2) if array.shape[2] >= 3 else array[..., 0]
    if array.ndim != 2:
        raise ValueError(f"mask must be H×W or H×W×C, got shape {np.asarray(mask).shape}")
    soft = array.astype(np.float32)
    if array.dtype == np.uint8 or (soft.size and soft.max() > 1.0):
        soft = soft / 255.0
    if soft.shape != (height, width):
        soft = cv2.resize(soft, (width, height), interpolation=cv2.INTER_LINEAR)
    soft = np.clip(1.0 - soft if invert else soft, 0.0, 1.0)
    soft = _blur(soft, blur)
    return Mask(soft=soft, overlay=np.clip(soft * 2.0, 0.0, 1.0))


def _wide_blur(array: np.ndarray, radius: float) -> np.ndarray:
    """A Gaussian blur of large radius, computed on a shrunken copy (the fill only needs its broad colours)."""
    if radius <= WIDE_RADIUS:
        return _blur(array, radius)
    height, width = array.shape[:2]
    scale = radius / WIDE_RADIUS
    small_size = (max(1, round(width / scale)), max(1, round(height / scale)))
    small = cv2.resize(array, small_size, interpolation=cv2.INTER_AREA)
    return cv2.resize(_blur(small, WIDE_RADIUS), (width, height), interpolation=cv2.INTER_LINEAR)


def fill_masked(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mask fill mode 0: paint the masked area with ever finer blurs of the kept colours around it."""
    keep = (1.0 - mask).astype(np.float32)
    colour = image.astype(np.float32) / 255.0
    acc_c = np.zeros_like(colour)
    acc_a = np.zeros(keep.shape, np.float32)
    for radius, repeats in FILL_RADII:
        alpha = np.clip(_wide_blur(keep, radius), 0.0, 1.0)
        layer = _wide_blur(colour * keep[..., None], radius) / np.maximum(alpha, 1e-6)[..., None]
        for _ in range(repeats):
            out_a = alpha + acc_a * (1.0 - alpha)
            weight = (acc_a * (1.0 - alpha) / np.maximum(out_a, 1e-6))[..., None]
            acc_c = layer * (1.0 - weight) + acc_c * weight
            acc_a = out_a
    return np.clip(acc_c * 255.0 + 0.5, 0, 255).astype(np.uint8)


def overlay(generated: np.ndarray, original: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Paste the original back outside the mask: generated where alpha is 1, original where it is 0."""
    a = alpha[..., None].astype(np.float32)
    mixed = generated.astype(np.float32) * a + original.astype(np.float32) * (1.0 - a)
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def to_tensor(image: np.ndarray, device: object, dtype: object) -> object:
    """RGB uint8 H×W×3 → 1×3×H×W tensor in [-1, 1]."""
    import torch

    tensor = torch.from_numpy(np.require(image, np.uint8, ["C", "W"])).to(device=device)
    return tensor.permute(2, 0, 1).unsqueeze(0).to(dtype).div_(127.5).sub_(1.0)


def from_tensor(decoded: object) -> np.ndarray:
    """1×3×H×W tensor in [-1, 1] → RGB uint8 H×W×3, truncated as the WebUI does (rescales float32 input in place)."""
    import torch

    with torch.inference_mode():
        planes = decoded[0].float().add_(1.0).mul_(127.5).clamp_(0.0, 255.0).to(torch.uint8).cpu().numpy()
    return cv2.merge(list(planes))
