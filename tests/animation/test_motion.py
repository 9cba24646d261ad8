"""FrameMotion construction and the apply_motion entry point (incl. hypothesis invariants)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deforum.animation import warp2d
from deforum.animation.motion import SERIES_KEYS, FrameMotion, apply_motion, matrix_2d

ROOT = Path(__file__).resolve().parents[2]


def _series(frames: int = 3) -> dict[str, np.ndarray]:
    return {key: np.arange(frames, dtype=np.float64) + i for i, key in enumerate(SERIES_KEYS.values())}


def test_from_series_picks_the_frame_by_settings_key():
    series = _series()
    motion = FrameMotion.from_series(series, 2, enable_perspective_flip=True)
    assert motion.angle == series["angle"][2]
    assert motion.fov == series["fov_schedule"][2]
    assert motion.cadence_flow_factor == series["cadence_flow_factor_schedule"][2]
    assert motion.enable_perspective_flip is True
    assert all(isinstance(getattr(motion, name), float) for name in SERIES_KEYS)


def test_from_series_names_missing_keys():
    series = _series()
    del series["near_schedule"]
    with pytest.raises(KeyError, match="near_schedule"):
        FrameMotion.from_series(series, 0)


def test_frame_motion_is_frozen():
    with pytest.raises(AttributeError):
        FrameMotion().angle = 1.0  # type: ignore[misc]


def test_2d_identity_is_exact():
    image = np.random.default_rng(0).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    assert np.array_equal(apply_motion(image, FrameMotion(), animation_mode="2D"), image)


def test_2d_uses_the_flip_matrix_when_enabled():
    motion = FrameMotion(angle=10, perspective_flip_theta=20, enable_perspective_flip=True)
    flip = warp2d.perspective_flip_matrix(40, 24, 20, 0, 0, 53)
    expected = flip @ warp2d.rotation_zoom_matrix(40, 24, 10, 1.0, 0.5, 0.5)
    assert np.allclose(matrix_2d(motion, 40, 24), expected)


def test_3d_applies_the_flip_before_reprojection():
    image = np.random.default_rng(1).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    motion = FrameMotion(perspective_flip_theta=30, enable_perspective_flip=True)
    flipped = warp2d.warp_perspective(image, warp2d.perspective_flip_matrix(40, 24, 30, 0, 0, 53))
    out = apply_motion(image, motion, animation_mode="3D", sampling_mode="nearest")
    assert np.array_equal(out, flipped)


def test_old_aspect_ratio_formula_uses_width_over_height():
    image = np.tile(np.arange(64, dtype=np.float64) * 2, (32, 1))[..., None].repeat(3, axis=2)
    motion = FrameMotion(translation_x=10.0, aspect_ratio=2.0)
    old = apply_motion(image, motion, animation_mode="3D", aspect_ratio_use_old_formula=True)
    scheduled = apply_motion(image, motion, animation_mode="3D")
    assert np.allclose(old, scheduled)  # 64 / 32 == 2


def test_2d_warps_float_flow_fields():
    field = np.random.default_rng(2).normal(size=(16, 16, 2)).astype(np.float32)
    out = apply_motion(field, FrameMotion(translation_x=2), animation_mode="2D")
    assert out.dtype == np.float32 and np.allclose(out[:, 2:], field[:, :-2])


def test_other_animation_modes_are_rejected():
    with pytest.raises(ValueError, match="Video Input"):
        apply_motion(np.zeros((4, 4, 3), np.uint8), FrameMotion(), animation_mode="Video Input")


def test_2d_path_does_not_import_torch():
    code = "import sys, deforum.animation.motion, deforum.animation.warp2d; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


motions = st.builds(
    FrameMotion,
    angle=st.floats(-360, 360),
    zoom=st.floats(0.01, 10),
    translation_x=st.floats(-500, 500),
    translation_y=st.floats(-500, 500),
    translation_z=st.floats(-500, 500),
    rotation_3d_x=st.floats(-180, 180),
    rotation_3d_y=st.floats(-180, 180),
    rotation_3d_z=st.floats(-180, 180),
    perspective_flip_theta=st.floats(-180, 180),
    perspective_flip_phi=st.floats(-80, 80),
    perspective_flip_gamma=st.floats(-80, 80),
    perspective_flip_fv=st.floats(5, 175),
    fov=st.floats(1, 179),
    enable_perspective_flip=st.booleans(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(motion=motions, mode=st.sampled_from(["2D", "3D"]), with_depth=st.booleans())
def test_warps_keep_shape_dtype_and_finite_values(motion, mode, with_depth):
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (12, 20, 3), dtype=np.uint8)
    depth = rng.uniform(0.5, 3.0, (12, 20)).astype(np.float32) if with_depth else None
    out = apply_motion(image, motion, animation_mode=mode, depth=depth)
    assert out.shape == image.shape and out.dtype == np.uint8
    float_out = apply_motion(image.astype(np.float32), motion, animation_mode=mode, depth=depth)
    assert np.isfinite(float_out).all()
