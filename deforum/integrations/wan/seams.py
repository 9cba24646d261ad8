"""Between Wan clips: cross-fading the seams (wan_enable_interpolation) and the attention backend setting."""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

import numpy as np

from deforum.media.image_ops import blend

log = logging.getLogger(__name__)

AUTO_ATTENTION = "Auto (Recommended)"
FORCE_FLASH = "Force Flash Attention"
FORCE_PYTORCH = "Force PyTorch Fallback"


def seam_weights(count: int, strength: float) -> np.ndarray:
    """Weight (count,) of the previous clip's last frame on each of the next clip's first `count` frames."""
    j = np.arange(count, dtype=np.float64)
    return float(strength) * (count - j) / (count + 1)


def smooth_seam(previous_last: np.ndarray, frames: np.ndarray, count: int, strength: float) -> np.ndarray:
    """The clip's frames (F×H×W×3 uint8) with its first `count` cross-faded from the previous clip's last frame
    (H×W×3): frame j gets `strength × (count − j) / (count + 1)` of it, fading out."""
    if strength <= 0 or count <= 0:
        return frames
    faded = frames.copy()
    for j, weight in enumerate(seam_weights(min(count, len(frames)), strength)):
        faded[j] = blend(frames[j], previous_last, float(weight))
    return faded


def attention_backend(mode: str, device: str, *, flash_installed: bool) -> str | None:
    """The diffusers attention backend for wan_flash_attention_mode (None: keep diffusers' default, PyTorch SDPA)."""
    if mode == FORCE_PYTORCH:
        return "native"
    if mode == FORCE_FLASH:
        if device != "cuda":
            log.warning("wan_flash_attention_mode 'Force Flash Attention' needs a CUDA GPU; using PyTorch attention.")
            return None
        return "flash" if flash_installed else "_native_flash"
    if mode != AUTO_ATTENTION:
        log.warning("wan_flash_attention_mode %r is not one of %s, %s, %s; using %s.", mode, AUTO_ATTENTION,
                    FORCE_FLASH, FORCE_PYTORCH, AUTO_ATTENTION)
    return None


def apply_attention_mode(pipe: Any, mode: str, device: str) -> str | None:
    """Set the Wan transformer's attention backend for the mode; returns the backend set (None: unchanged)."""
    backend = attention_backend(mode, device, flash_installed=importlib.util.find_spec("flash_attn") is not None)
    if backend is None:
        return None
    setter = getattr(pipe.transformer, "set_attention_backend", None)
    if setter is None:
        log.warning("This diffusers cannot choose the attention backend; wan_flash_attention_mode %r is ignored.",
                    mode)
        return None
    setter(backend)
    return backend
