"""Raw depth-model output → the per-pixel z the 3D warp projects, exactly as the original prepared it."""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

EQUALIZATION_BINS = 1024
LEGACY_ALGORITHMS = ("midas+adabins (old)", "zoe+adabins (old)")


def equalize_depth(normalized: np.ndarray) -> np.ndarray:
    """Histogram-equalise a [0, 1] depth map: 1024 bins, CDF interpolated linearly at the bins' left edges.

    Equals ``np.interp(d, edges[:-1], cdf)`` after ``np.histogram(d, 1024, (0, 1))`` bit for bit; the bins
    are uniform with power-of-two edges, so each value's bin is ``floor(1024·d)`` and no search is needed.
    """
    values = np.asarray(normalized, dtype=np.float64)
    bins = (values * EQUALIZATION_BINS).astype(np.intp)
    np.minimum(bins, EQUALIZATION_BINS - 1, out=bins)
    cdf = np.bincount(bins.ravel(), minlength=EQUALIZATION_BINS).cumsum()
    cdf = cdf / float(cdf[-1])
    edges = np.arange(EQUALIZATION_BINS, dtype=np.float64) / EQUALIZATION_BINS
    slopes = np.append(np.diff(cdf) / np.diff(edges), 0.0)
    return slopes[bins] * (values - edges[bins]) + cdf[bins]


def normalize_depth(depth: np.ndarray) -> np.ndarray:
    """Min-max normalise depth to [0, 1] in float32, then equalise its histogram (float64 result)."""
    depth = np.asarray(depth, dtype=np.float32)
    low = depth.min()
    return equalize_depth((depth - low) / (depth.max() - low))


def is_usable_depth(depth: np.ndarray | None) -> bool:
    """False for a missing, non-finite or perfectly flat depth map (the original's 'invalid' depth)."""
    if depth is None:
        return False
    depth = np.asarray(depth)
    return bool(np.isfinite(depth).all()) and depth.size > 0 and depth.min() != depth.max()


def depth_to_z(depth: np.ndarray | None, depth_algorithm: str, shape: tuple[int, int]) -> np.ndarray:
    """Per-pixel z (float32, ``shape``): MiDaS-style ``2 - n``, other models ``1 + n``, raw for "(old)" ones.

    ``n`` is the normalised, equalised depth. A missing or non-finite map gives z = 1 everywhere, and so does
    a flat one except for the "(old)" algorithms, which use the raw values.
    """
    if depth is not None and np.shape(depth) != tuple(shape):
        raise ValueError(f"depth shape {np.shape(depth)} does not match the image's {tuple(shape)}")
    algorithm = depth_algorithm.lower()
    if algorithm in LEGACY_ALGORITHMS and depth is not None and np.isfinite(depth).all():
        return np.asarray(depth, dtype=np.float32)
    if not is_usable_depth(depth):
        if depth is not None:
            logger.warning("Depth map is flat or not finite; using flat depth for this frame.")
        return np.ones(shape, dtype=np.float32)
    normalized = normalize_depth(depth)
    if algorithm.startswith("midas"):
        return (2.0 - normalized).astype(np.float32)
    return (1.0 + normalized).astype(np.float32)
