"""Camera maths against hand-computed matrices."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from deforum.animation import camera, camera3d


def test_axis_rotations_by_90_degrees():
    assert np.allclose(camera.rotation_x(90), [[1, 0, 0], [0, 0, -1], [0, 1, 0]])
    assert np.allclose(camera.rotation_y(90), [[0, 0, 1], [0, 1, 0], [-1, 0, 0]])
    assert np.allclose(camera.rotation_z(90), [[0, -1, 0], [1, 0, 0], [0, 0, 1]])


def test_euler_xyz_is_x_then_y_then_z_product():
    # Rx(90) @ Ry(90) @ Rz(90), multiplied out by hand.
    expected = np.array([[0, 0, 1], [0, -1, 0], [1, 0, 0]])
    assert np.allclose(camera.euler_xyz(90, 90, 90), expected)


def test_euler_xyz_is_a_rotation():
    r = camera.euler_xyz(12.0, -33.0, 71.0)
    assert np.allclose(r @ r.T, np.eye(3))
    assert math.isclose(np.linalg.det(r), 1.0)


def test_projection_hand_computed():
    # fov 90 → tan(45°) = 1; aspect 2; near 1, far 3 (column-vector form is the transpose of the rows).
    expected = [[0.5, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1.5, -1.5], [0, 0, 1, 0]]
    assert np.allclose(camera3d.projection_rows(90, 2.0, 1.0, 3.0)[0].numpy().T, expected)


def test_projection_maps_near_to_0_and_far_to_1():
    rows = camera3d.projection_rows(70, 1.0, 200, 10000)[0].double().numpy()
    for z, expected in ((200, 0.0), (10000, 1.0)):
        out = np.array([0, 0, z, 1]) @ rows
        assert out[2] / out[3] == pytest.approx(expected, abs=1e-6)


def test_camera_rows_apply_the_rotation_then_the_translation():
    rotation = torch.tensor(camera.rotation_z(90), dtype=torch.float32)[None]
    rows = camera3d.camera_rows(rotation, torch.tensor([[1.0, 2.0, 3.0]]), torch.eye(4)[None])[0].numpy()
    # Row-vector convention X R + T: [1,0,0] @ Rz(90) = [0,-1,0].
    assert np.allclose(np.array([1.0, 0.0, 0.0, 1.0]) @ rows, [1.0, 1.0, 3.0, 1.0], atol=1e-7)


def test_still_camera_is_the_projection_and_unmoved_equals_it():
    still, moved = camera3d.motion_transforms((0, 0, 0), (0, 0, 0), 70, 1.0, 200, 10000)
    assert torch.equal(still, camera3d.projection_rows(70, 1.0, 200, 10000)) and torch.equal(moved, still)


def test_moved_camera_projects_the_translated_point():
    _, moved = camera3d.motion_transforms((0, 0, 0), (20, 0, 0), 90, 1.0, 1.0, 3.0)
    out = np.array([0.0, 0.0, 1.0, 1.0]) @ moved[0].double().numpy()
    # x moves by -20/200 = -0.1; tan(45°) = 1, z = 1 → NDC x = -0.1.
    assert out[0] / out[3] == pytest.approx(-0.1, abs=1e-6)
