"""Vid2depth: grey depth maps for every frame of a video or a set of images (the original's Output-tab tool)."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from deforum.media.frames_io import read_image, write_png_atomic

log = logging.getLogger(__name__)

THRESHOLDING_CHOICES = ("None", "Simple", "Simple (Auto-value)", "Adaptive (Mean)", "Adaptive (Gaussian)")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
FRAME_PATTERN = "%09d.png"
END_BLUR_KERNEL = (5, 5)
RETHRESHOLD_LEVEL = 127

Progress = Callable[[int], None]


class BatchDepthEstimator(Protocol):
    """What vid2depth needs from an estimator: batched prediction and which way is near."""

    larger_is_nearer: bool

    def predict_batch(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Depth of several RGB uint8 frames."""
        ...


@dataclass(frozen=True)
class DepthMapOptions:
    """How depth becomes a grey map: the original's thresholding, "Closer is brighter" and end blur."""

    thresholding: str = "None"
    threshold_value: int = 127
    threshold_value_max: int = 255
    adapt_block_size: int = 11
    adapt_c: float = 2.0
    closer_is_brighter: bool = True
    end_blur: float = 0.0

    def __post_init__(self) -> None:
        if self.thresholding not in THRESHOLDING_CHOICES:
            raise ValueError(f"thresholding must be one of {THRESHOLDING_CHOICES}, got {self.thresholding!r}")
        adaptive = self.thresholding.startswith("Adaptive")
        if adaptive and (int(self.adapt_block_size) < 3 or int(self.adapt_block_size) % 2 == 0):
            raise ValueError(f"adapt_block_size must be an odd number >= 3, got {self.adapt_block_size}")


class GreyDepthMapper:
    """Depth → 8-bit grey, scaled by the range of all frames so far (as the original's depth map saving did)."""

    def __init__(self, larger_is_nearer: bool, options: DepthMapOptions) -> None:
        self.larger_is_nearer = larger_is_nearer
        self.options = options
        self.low = np.inf
        self.high = -np.inf

    def __call__(self, depth: np.ndarray) -> np.ndarray:
        """The grey map of one frame's depth (H×W uint8)."""
        nearness = np.nan_to_num(np.asarray(depth, dtype=np.float32))
        if not self.larger_is_nearer:
            nearness = -nearness
        self.low = min(self.low, float(nearness.min()))
        self.high = max(self.high, float(nearness.max()))
        scaled = (nearness - self.low) / max(self.high - self.low, 1e-8)
        grey = (np.clip(scaled, 0.0, 1.0) * 255).astype(np.uint8)
        if not self.options.closer_is_brighter:
            grey = 255 - grey
        return shape_depth_map(grey, self.options)


def shape_depth_map(grey: np.ndarray, options: DepthMapOptions) -> np.ndarray:
    """Apply the thresholding mode and end blur to a grey depth map (the original's order and re-threshold)."""
    mode = options.thresholding
    if mode == "Simple":
        grey = cv2.threshold(grey, options.threshold_value, options.threshold_value_max, cv2.THRESH_BINARY)[1]
    elif mode == "Simple (Auto-value)":
        grey = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    elif mode.startswith("Adaptive"):
        method = cv2.ADAPTIVE_THRESH_MEAN_C if mode == "Adaptive (Mean)" else cv2.ADAPTIVE_THRESH_GAUSSIAN_C
        grey = cv2.adaptiveThreshold(grey, options.threshold_value_max, method, cv2.THRESH_BINARY,
                                     int(options.adapt_block_size), options.adapt_c)
    if options.end_blur > 0:
        grey = cv2.GaussianBlur(grey, END_BLUR_KERNEL, options.end_blur)
        if mode != "None":
            grey = cv2.threshold(grey, RETHRESHOLD_LEVEL, 255, cv2.THRESH_BINARY)[1]
    return grey


def list_images(source: Path) -> list[Path]:
    """The image files of a folder (sorted by name), or the single image ``source``."""
    if source.is_file():
        return [source]
    images = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not images:
        raise FileNotFoundError(f"No images ({', '.join(IMAGE_EXTENSIONS)}) in {source}.")
    return images


def write_depth_maps(estimator: BatchDepthEstimator, inputs: Sequence[Path], outputs: Sequence[Path],
                     options: DepthMapOptions, *, batch_size: int = 4, progress: Progress | None = None) -> int:
    """Predict depth for each input image and write its grey map to the matching output path; returns count."""
    mapper = GreyDepthMapper(estimator.larger_is_nearer, options)
    step = max(int(batch_size), 1)
    for start in range(0, len(inputs), step):
        images = [read_image(path) for path in inputs[start:start + step]]
        for target, depth in zip(outputs[start:start + step], estimator.predict_batch(images)):
            write_png_atomic(target, mapper(depth))
        if progress is not None:
            progress(len(images))
    return len(inputs)


def safe_name(text: str) -> str:
    """A file-name-safe form of ``text`` (letters, digits, '.', '-', '_')."""
    return re.sub(r"[^\w.-]+", "_", text).strip("_") or "depth"


def unique_folder(base: Path) -> Path:
    """``base``, or ``base_1``, ``base_2``… when it already exists (the original never overwrote a run)."""
    candidate, index = base, 1
    while candidate.exists():
        candidate = base.with_name(f"{base.name}_{index}")
        index += 1
    return candidate


def remove_tree(folder: Path) -> None:
    """Delete a scratch folder, logging instead of failing."""
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        log.warning("Could not remove %s: %s", folder, exc)
