"""Engine-neutral frame interpolation: the engine protocol, amounts, fps and naming rules, the streaming driver.

Frames flow through a bounded window: a source (``frame_stream``) yields decoded frames one at a time (PNG files
read lazily, or an ffmpeg rawvideo pipe), the driver keeps the previous frame, asks the engine for the in-betweens
of each pair and hands every frame to a writer whose queue is bounded. Nothing holds the whole sequence in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable

import numpy as np

from deforum.core.services import CancelToken, RenderCancelled
from deforum.integrations.post.frame_stream import FrameSource

log = logging.getLogger(__name__)

ENGINE_TAGS = {"rife v4.6": "RIFE", "rife": "RIFE", "rife46": "RIFE", "film": "FILM"}
X_RANGES = {"RIFE": (2, 10), "FILM": (2, 300)}
FRAMES_DIR_PREFIX = {"RIFE": "interpolated_frames_rife", "FILM": "interpolated_frames_film"}
FRAME_PATTERNS = {"RIFE": "%09d.png", "FILM": "frame_%09d.png"}

ProgressFn = Callable[[int, int], None]


@runtime_checkable
class PairInterpolator(Protocol):
    """Makes the in-between frames of one pair of RGB uint8 frames."""

    def inbetweens(self, total: int, x: int) -> int:
        """How many frames go between each pair of a `total`-frame sequence interpolated `x` times."""
        ...

    def between(self, a: np.ndarray, b: np.ndarray, count: int) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (k, frame at time k/(count+1)) for k in 1..count, in any order."""
        ...


class PairInterpolatorBase:
    """Gives a pair interpolator the render's ``FrameInterpolator.interpolate(frames, x)`` (RIFE frame counts)."""

    def inbetweens(self, total: int, x: int) -> int:
        """x − 1 frames between each pair: (N − 1)·x + 1 frames out."""
        return x - 1

    def between(self, a: np.ndarray, b: np.ndarray, count: int) -> Iterator[tuple[int, np.ndarray]]:
        """Implemented by each engine."""
        raise NotImplementedError

    def interpolate(self, frames: list[np.ndarray], x: int) -> list[np.ndarray]:
        """The frames with this engine's in-betweens inserted (in memory: for short lists only)."""
        out: list[np.ndarray] = []
        count = self.inbetweens(len(frames), x) if len(frames) > 1 else 0
        for a, b in zip(frames, frames[1:]):
            mids = dict(self.between(a, b, count))
            out += [a, *(mids[k] for k in range(1, count + 1))]
        return out + list(frames[-1:])


class BlendInterpolator(PairInterpolatorBase):
    """Cross-fade baseline (no motion estimation): frame k is a·(1 − t) + b·t, rounded."""

    def between(self, a: np.ndarray, b: np.ndarray, count: int) -> Iterator[tuple[int, np.ndarray]]:
        """Linear blends at t = k/(count+1)."""
        fa, fb = a.astype(np.float32), b.astype(np.float32)
        for k in range(1, count + 1):
            t = k / (count + 1)
            yield k, np.clip(np.rint(fa * (1 - t) + fb * t), 0, 255).astype(np.uint8)


def engine_tag(engine: str) -> str:
    """'RIFE' or 'FILM' for a frame_interpolation_engine value or a CLI name; ValueError otherwise."""
    tag = ENGINE_TAGS.get(engine.strip().lower())
    if tag is None:
        raise ValueError(f"Unknown frame interpolation engine {engine!r}: use 'RIFE v4.6' (rife) or 'FILM' (film).")
    return tag


def check_amounts(tag: str, x: int, slow_mo: int | None) -> None:
    """Refuse an interpolation amount outside the engine's range (RIFE 2–10, FILM 2–300) or slow-mo < 2."""
    low, high = X_RANGES[tag]
    if not low <= x <= high:
        raise ValueError(f"{tag} interpolation amount must be {low}–{high}, got {x}.")
    if slow_mo is not None and slow_mo < 2:
        raise ValueError(f"slow-motion amount must be at least 2, got {slow_mo}.")


def output_fps(fps: float, x: int, slow_mo: int | None = None) -> float:
    """Interpolated video fps: fps·x, divided by the slow-motion amount when slow-mo is on."""
    out = float(fps) * x / (slow_mo or 1)
    return int(out) if out.is_integer() else out


def video_name(stem: str, tag: str, x: int, slow_mo: int | None = None) -> str:
    """The original's interpolated video name: ``<stem>_RIFE_x2.mp4``, ``<stem>_FILM_x4_slomo_x2.mp4``."""
    return f"{stem}_{tag}_x{x}" + (f"_slomo_x{slow_mo}" if slow_mo else "") + ".mp4"


def frames_dir_name(tag: str, stem: str) -> str:
    """The interpolated frames folder: ``interpolated_frames_rife_<stem>`` / ``interpolated_frames_film_<stem>``."""
    return f"{FRAMES_DIR_PREFIX[tag]}_{stem}"


def film_inbetweens(total: int, x: int) -> int:
    """FILM's in-betweens per pair, chosen so the total is about N·x: round((N·x − N) / (N − 1))."""
    return int(round((total * x - total) / (total - 1))) if total > 1 else 0


def interpolated_count(total: int, inbetweens: int) -> int:
    """Frames out of `total` frames in with `inbetweens` between each pair."""
    return (total - 1) * (inbetweens + 1) + 1 if total > 0 else 0


def drive(source: FrameSource, engine: PairInterpolator, x: int, write: Callable[[int, np.ndarray], None], *,
          progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> int:
    """Interpolate `source` frame pair by frame pair, handing each output frame to `write`; returns frames out."""
    count = engine.inbetweens(source.count, x) if source.count > 1 else 0
    base, previous, seen = 0, None, 0
    for frame in source.frames():
        if cancel is not None and cancel.cancelled:
            raise RenderCancelled("frame interpolation cancelled")
        if previous is not None:
            for k, mid in engine.between(previous, frame, count):
                write(base + k, mid)
            base += count + 1
        write(base, frame)
        previous, seen = frame, seen + 1
        if progress is not None:
            progress(seen, source.count)
    if seen != source.count:
        log.warning("%s: read %d frames, expected %d.", source.name, seen, source.count)
    return base + 1 if seen else 0
