"""The 3D warp's float32 camera transforms and sampling grid: the original's matrix product, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from deforum.animation.camera import euler_xyz
from deforum.animation.camera3d import motion_transforms
from deforum.animation.warp3d import reprojection_grid


def _original_grid(z: torch.Tensor, still: torch.Tensor, moved: torch.Tensor) -> torch.Tensor:
    """The original's way: rows (x, y, z, 1) times each camera's 4×4 with bmm, x, y over w, moved − still."""
    height, width = z.shape
    y, x = torch.meshgrid(torch.linspace(-1.0, 1.0, height), torch.linspace(-1.0, 1.0, width), indexing="ij")
    rows = torch.cat((torch.stack((x.flatten(), y.flatten(), z.flatten()), 1), torch.ones(height * width, 1)), 1)

    def project(transform: torch.Tensor) -> torch.Tensor:
        out = rows[None].bmm(transform)
        return (out[..., :3] / out[..., 3:])[0, :, :2]

    base = F.affine_grid(torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), [1, 1, height, width],
                         align_corners=False)
    return base - (project(moved) - project(still)).reshape(height, width, 2)[None]


@settings(max_examples=25, deadline=None)
@given(rotation=st.tuples(*[st.floats(-8, 8)] * 3), translation=st.tuples(*[st.floats(-20, 20)] * 3),
       fov=st.floats(20, 120), aspect=st.floats(0.5, 2.0), near=st.floats(0.1, 300), far=st.floats(1000, 20000),
       flat=st.booleans(), seed=st.integers(0, 2**16))
def test_the_grid_is_the_originals_matrix_product_bit_for_bit(rotation, translation, fov, aspect, near, far, flat,
                                                              seed):
    rng = np.random.default_rng(seed)
    height, width = int(rng.integers(4, 70)), int(rng.integers(4, 70))
    z = torch.ones(height, width) if flat else torch.from_numpy(rng.uniform(-3, 2, (height, width)).astype(np.float32))
    still, moved = motion_transforms(rotation, translation, fov, aspect, near, far)
    assert torch.equal(reprojection_grid(z[None], still, moved), _original_grid(z, still, moved))


def test_the_transforms_are_the_float64_cameras_rounded_to_float32():
    still, moved = motion_transforms((1.0, -2.0, 3.0), (4.0, 5.0, -6.0), 70, 1.2, 200, 10000)
    half_tan, near, far = math.tan(math.radians(35)), 200.0, 10000.0
    projection = np.array([[1 / (half_tan * 1.2), 0, 0, 0], [0, 1 / half_tan, 0, 0],
                           [0, 0, far / (far - near), -far * near / (far - near)], [0, 0, 1, 0]])
    view = np.eye(4)
    view[:3, :3] = euler_xyz(1.0, -2.0, 3.0).T
    view[:3, 3] = [-4.0 / 200, 5.0 / 200, 6.0 / 200]
    assert still.dtype == moved.dtype == torch.float32 and still.shape == moved.shape == (1, 4, 4)
    assert np.allclose(still[0].numpy().T, projection, rtol=1e-6, atol=1e-6)
    assert np.allclose(moved[0].numpy().T, projection @ view, rtol=1e-6, atol=1e-4)


def test_a_still_camera_takes_the_shortcut_with_the_same_bits():
    still, _ = motion_transforms((0, 0, 0), (0, 0, 0), 53, 1.0, 200, 10000)
    nudged = still.clone()
    nudged[0, 3, 0] = 1e-30  # no longer a pure projection: the general path
    z = torch.from_numpy(np.random.default_rng(3).uniform(0.5, 2, (1, 9, 11)).astype(np.float32))
    general = reprojection_grid(z, nudged, nudged)
    assert torch.equal(reprojection_grid(z, still, still), general)
    assert torch.equal(general, F.affine_grid(torch.eye(2, 3)[None], [1, 1, 9, 11], align_corners=False))


@pytest.mark.parametrize("rotation", [(0.0, 0.0, 0.0), (0.0, 90.0, 0.0)])
def test_euler_rotation_is_exact_for_quarter_turns_and_identity(rotation):
    _, moved = motion_transforms(rotation, (0, 0, 0), 90, 1.0, 1.0, 3.0)
    assert moved[0, 3, 3].item() == 0.0 and moved[0, 2, 3].item() == pytest.approx(np.cos(np.radians(rotation[1])),
                                                                                    abs=1e-7)
