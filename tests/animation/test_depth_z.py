"""Depth → z as the original prepared it."""

from __future__ import annotations

import numpy as np
import pytest

from deforum.animation.depth_z import depth_to_z, equalize_depth, normalize_depth


def _numpy_equalized(normalized: np.ndarray) -> np.ndarray:
    counts, edges = np.histogram(normalized, bins=1024, range=(0, 1))
    cdf = counts.cumsum()
    return np.interp(normalized, edges[:-1], cdf / float(cdf[-1]))


@pytest.mark.parametrize("power", [0.3, 1.0, 4.0])
def test_equalize_matches_numpy_histogram_and_interp_exactly(power):
    rng = np.random.default_rng(3)
    values = (rng.random((61, 83)) ** power).astype(np.float32)
    values[0, 0], values[0, 1], values[0, 2] = 0.0, 1.0, 1023 / 1024
    assert np.array_equal(equalize_depth(values), _numpy_equalized(values))


def test_normalize_equalizes_to_the_cumulative_share():
    depth = np.linspace(3.0, 9.0, 100, dtype=np.float32).reshape(10, 10)
    normalized = normalize_depth(depth)
    # Evenly spread values: each one's CDF (its own bin included) is its rank / 100.
    assert np.allclose(normalized.ravel(), np.arange(1, 101) / 100)


@pytest.mark.parametrize("depth", [None, np.full((4, 5), 7.0, np.float32), np.array([[1, np.nan], [2, 3]], np.float32)])
def test_missing_flat_or_nan_depth_gives_z_one(depth):
    shape = (4, 5) if depth is None or depth.shape == (4, 5) else depth.shape
    z = depth_to_z(depth, "Midas-3-Hybrid", shape)
    assert z.dtype == np.float32 and np.array_equal(z, np.ones(shape, np.float32))


def test_midas_is_two_minus_n():
    depth = np.arange(12, dtype=np.float32).reshape(3, 4)
    z = depth_to_z(depth, "Midas-3-Hybrid", (3, 4))
    assert np.allclose(z, 2.0 - normalize_depth(depth))
    assert z[0, 0] == pytest.approx(2.0 - 1 / 12) and z[-1, -1] == 1.0  # highest disparity is nearest


@pytest.mark.parametrize("algorithm", ["Zoe", "AdaBins", "Leres", "Depth-Anything-V2-Small"])
def test_other_models_are_one_plus_n(algorithm):
    depth = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert np.allclose(depth_to_z(depth, algorithm, (3, 4)), 1.0 + normalize_depth(depth))


@pytest.mark.parametrize("algorithm", ["Midas+AdaBins (old)", "Zoe+AdaBins (old)"])
def test_old_algorithms_use_raw_depth(algorithm):
    depth = np.full((3, 4), 5.5, np.float32)
    assert np.array_equal(depth_to_z(depth, algorithm, (3, 4)), depth)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        depth_to_z(np.zeros((3, 3), np.float32), "Zoe", (4, 4))
