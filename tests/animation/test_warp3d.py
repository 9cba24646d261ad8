"""3D warp: identity, pure translations with flat and two-level depth, padding, batching."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from deforum.animation import warp3d
from deforum.animation.camera3d import motion_transforms
from deforum.animation.motion import FrameMotion, apply_motion

SIZE = 128


def _ramp(size: int = SIZE) -> np.ndarray:
    """Float image whose value is 1.5 × column index."""
    row = 1.5 * np.arange(size, dtype=np.float64)
    return np.repeat(np.tile(row, (size, 1))[..., None], 3, axis=2)


def _x_shift_pixels(translation_x: float, fov: float, width: int, z: float = 1.0) -> float:
    """Expected content shift: translation/200 × 1/tan(fov/2) (NDC), × width/2 pixels, ÷ z."""
    return translation_x / 200 / math.tan(math.radians(fov / 2)) * width / 2 / z


def test_identity_nearest_is_exact_and_bicubic_within_one_level():
    image = np.random.default_rng(1).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    for mode, tolerance in (("nearest", 0), ("bilinear", 1), ("bicubic", 1)):
        out = apply_motion(image, FrameMotion(), animation_mode="3D", sampling_mode=mode)
        assert out.dtype == np.uint8 and out.shape == image.shape
        assert np.abs(out.astype(int) - image).max() <= tolerance, mode


def test_pure_x_translation_shifts_by_the_projected_distance_for_flat_depth():
    motion = FrameMotion(translation_x=10.0, fov=40.0)
    out = apply_motion(_ramp(), motion, animation_mode="3D", sampling_mode="bilinear")
    shift = _x_shift_pixels(10.0, 40.0, SIZE)
    assert shift == pytest.approx(8.79, abs=0.01)
    columns = np.arange(SIZE - 12)
    assert np.allclose(out[64, columns, 0] / 1.5, columns + shift, atol=1e-3)


def test_aspect_ratio_stretches_the_x_shift():
    motion = FrameMotion(translation_x=10.0, fov=40.0, aspect_ratio=2.0)
    out = apply_motion(_ramp(), motion, animation_mode="3D", sampling_mode="bilinear")
    assert out[64, 10, 0] / 1.5 - 10 == pytest.approx(_x_shift_pixels(10.0, 40.0, SIZE) / 2, abs=1e-3)


def test_near_pixels_move_more_than_far_ones_with_midas_depth():
    depth = np.ones((SIZE, SIZE), np.float32)
    depth[: SIZE // 2] = 5.0  # MiDaS: larger = nearer → equalised n = 1 (z = 1) vs n = 0.5 (z = 1.5)
    motion = FrameMotion(translation_x=10.0, fov=40.0)
    out = apply_motion(_ramp(), motion, animation_mode="3D", depth=depth, sampling_mode="bilinear")
    assert out[10, 20, 0] / 1.5 - 20 == pytest.approx(_x_shift_pixels(10.0, 40.0, SIZE, z=1.0), abs=1e-3)
    assert out[100, 20, 0] / 1.5 - 20 == pytest.approx(_x_shift_pixels(10.0, 40.0, SIZE, z=1.5), abs=1e-3)


def test_positive_translation_z_zooms_in():
    out = apply_motion(_ramp(), FrameMotion(translation_z=20.0), animation_mode="3D", sampling_mode="bilinear")
    ramp = _ramp()
    assert out[64, 110, 0] < ramp[64, 110, 0] and out[64, 15, 0] > ramp[64, 15, 0]


@pytest.mark.parametrize("padding, edge", [("zeros", 0.0), ("border", 1.5 * (SIZE - 1))])
def test_padding_modes_fill_the_uncovered_edge(padding, edge):
    out = apply_motion(_ramp(), FrameMotion(translation_x=10.0, fov=40.0), animation_mode="3D",
                       sampling_mode="bilinear", padding_mode=padding)
    assert out[64, -1, 0] == pytest.approx(edge)


def test_float_fields_are_clamped_to_pixel_range_like_the_original():
    field = np.full((16, 16, 2), -0.25)
    assert np.array_equal(apply_motion(field, FrameMotion(), animation_mode="3D"), np.zeros_like(field))


def test_batched_warp_equals_per_image_warps():
    rng = np.random.default_rng(2)
    images = torch.from_numpy(rng.uniform(0, 255, (2, 3, 24, 32)).astype(np.float32))
    z = torch.from_numpy(rng.uniform(1, 2, (2, 24, 32)).astype(np.float32))
    cams = [
        motion_transforms((0, 2, 1), (5, -3, 4), 70, 1.0, 200, 10000),
        motion_transforms((1, 0, 0), (0, 0, 9), 50, 1.2, 200, 10000),
    ]
    still = torch.cat([c[0] for c in cams])
    moved = torch.cat([c[1] for c in cams])
    batched = warp3d.warp_tensors_3d(images, z, still, moved)
    for i in range(2):
        single = warp3d.warp_tensors_3d(images[i:i + 1], z[i:i + 1], still[i:i + 1], moved[i:i + 1])
        assert torch.equal(batched[i], single[0])


def test_camera_behind_points_never_gives_nan():
    image = np.random.default_rng(4).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    for tz in (200.0, 300.0, 1e6):
        out = apply_motion(image.astype(np.float32), FrameMotion(translation_z=tz), animation_mode="3D")
        assert np.isfinite(out).all()


def test_unknown_modes_are_rejected():
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="sampling_mode"):
        apply_motion(image, FrameMotion(), animation_mode="3D", sampling_mode="area")
    with pytest.raises(ValueError, match="padding_mode"):
        apply_motion(image, FrameMotion(), animation_mode="3D", padding_mode="wrap")
