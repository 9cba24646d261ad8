"""Values exchanged with a model service: one generation request and its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np


@dataclass(frozen=True)
class ControlNetUnit:
    """One enabled ControlNet unit for one frame: control image (RGB uint8), optional mask, scheduled values."""

    number: int
    module: str
    model: str
    image: np.ndarray
    mask: np.ndarray | None = None
    weight: float = 1.0
    guidance_start: float = 0.0
    guidance_end: float = 1.0
    resize_mode: str = "Inner Fit (Scale to Fit)"
    control_mode: str = "Balanced"
    low_vram: bool = False
    pixel_perfect: bool = False
    processor_res: int = 64
    threshold_a: float = 64.0
    threshold_b: float = 64.0


@dataclass(frozen=True)
class FreeU:
    """FreeU for one frame: backbone factors b1, b2 and skip factors s1, s2 of the first two up stages."""

    b1: float
    b2: float
    s1: float
    s2: float


ResizeMethod = Literal["bicubic", "nearest-exact", "bilinear", "area", "bislerp"]


@dataclass(frozen=True)
class DeepShrink:
    """Kohya deep shrink (HR fix) for one frame: input block `block_number` is shrunk by `downscale_factor`
    while the sampling is between `start_percent` and `end_percent` of its way, and grown back on the way up."""

    block_number: int
    downscale_factor: float
    start_percent: float
    end_percent: float
    downscale_after_skip: bool = False
    downscale_method: ResizeMethod = "bicubic"
    upscale_method: ResizeMethod = "bicubic"


DEFAULT_DISTILLED_CFG = 3.5


@dataclass(frozen=True)
class GenerationRequest:
    """Everything a model service needs to make one frame (txt2img when init_image is None)."""

    frame: int
    prompt: str
    negative_prompt: str
    seed: int
    width: int
    height: int
    steps: int
    cfg_scale: float
    sampler: str
    scheduler: str = "Automatic"
    denoising_strength: float = 1.0
    init_image: np.ndarray | None = None
    mask: np.ndarray | None = None
    subseed: int = -1
    subseed_strength: float = 0.0
    seed_resize_from_w: int = 0
    seed_resize_from_h: int = 0
    tiling: bool = False
    restore_faces: bool = False
    clip_skip: int | None = None
    noise_multiplier: float | None = None
    ddim_eta: float | None = None
    ancestral_eta: float | None = None
    checkpoint: str | None = None
    pix2pix_img_cfg_scale: float = 1.5
    fill: int = 1
    full_res_mask: bool = True
    full_res_mask_padding: int = 4
    mask_blur: int = 4
    invert_mask: bool = False
    color_correction: np.ndarray | None = None
    controlnet: tuple[ControlNetUnit, ...] = ()
    distilled_cfg_scale: float = DEFAULT_DISTILLED_CFG
    freeu: FreeU | None = None
    deep_shrink: DeepShrink | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_img2img(self) -> bool:
        """True when an init image is given."""
        return self.init_image is not None


@dataclass(frozen=True)
class GeneratedImage:
    """A generated frame (RGB uint8, H×W×3) and what the service reports about it."""

    image: np.ndarray
    seed: int
    info: str = ""
