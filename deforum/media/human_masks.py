"""Human masks of hybrid video's input frames, written where and as the original wrote them.

The original ran Robust Video Matting's converter over ``inputframes/`` into ``human_masks/``: ``0000.png``…
for "PNGs", ``human_masked_video.mp4`` for "Video", and for "Both" the video plus ``frame{i}.png`` (which it
decoded back from the video; here they are the exact mattes).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from deforum.media.frames_io import write_png_atomic
from deforum.media.video import stitch_video

HUMAN_MASK_OUTPUTS = ("PNGs", "Video", "Both")
MASKS_FOLDER = "human_masks"
MASK_VIDEO = "human_masked_video.mp4"
STAGING = ".video-frames"
FILE_NAMES = {"PNGs": "{:04d}.png", "Both": "frame{}.png", "Video": "{:09d}.png"}
FFMPEG_PATTERNS = {"Both": "frame%d.png", "Video": "%09d.png"}


class Matting(Protocol):
    """Alpha mattes of a frame sequence."""

    def alphas(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """H×W uint8 alpha of each RGB frame, in order."""
        ...


def _clear_images(folder: Path) -> None:
    """Delete the folder's .png and .jpg files (overwrite_extracted_frames)."""
    for path in [*folder.glob("*.png"), *folder.glob("*.jpg")]:
        path.unlink()


def _read_rgb(path: Path) -> np.ndarray:
    """A frame decoded by PIL as RGB, as RVM's converter read image sequences."""
    with Image.open(path) as image:
        return np.array(image.convert("RGB"))


def write_human_masks(frames: Sequence[Path], folder: Path, output: str, fps: float, matting: Matting,
                      *, overwrite: bool = False) -> int:
    """Matte `frames` into `folder` as `output` ("PNGs", "Video" or "Both") says; the number of masks."""
    if output not in HUMAN_MASK_OUTPUTS:
        raise ValueError(f"Setting 'hybrid_generate_human_masks': must be 'None' or one of {HUMAN_MASK_OUTPUTS}, "
                         f"got {output!r}.")
    folder.mkdir(parents=True, exist_ok=True)
    if overwrite:
        _clear_images(folder)
    target = folder / STAGING if output == "Video" else folder
    target.mkdir(exist_ok=True)
    count = 0
    try:
        for count, alpha in enumerate(matting.alphas(_read_rgb(path) for path in frames), start=1):
            write_png_atomic(target / FILE_NAMES[output].format(count - 1), alpha)
        if output != "PNGs" and count:
            stitch_video(str(target / FFMPEG_PATTERNS[output]), str(folder / MASK_VIDEO), fps, frame_count=count)
    finally:
        if output == "Video":
            shutil.rmtree(target, ignore_errors=True)
    return count
