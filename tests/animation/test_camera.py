"""Camera maths against hand-computed matrices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deforum.animation import camera


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


def test_camera_translation_scales_by_1_over_200_and_flips_x_and_z():
    assert np.allclose(camera.camera_translation(10, 20, 30), [-0.05, 0.1, -0.15])


def test_fov_projection_hand_computed():
    # fov 90 → tan(45°) = 1; aspect 2; near 1, far 3.
    expected = [[0.5, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1.5, -1.5], [0, 0, 1, 0]]
    assert np.allclose(camera.fov_projection(90, 2.0, 1.0, 3.0), expected)


def test_fov_projection_maps_near_to_0_and_far_to_1():
    p = camera.fov_projection(70, 1.0, 200, 10000)
    for z, expected in ((200, 0.0), (10000, 1.0)):
        out = p @ [0, 0, z, 1]
        assert out[2] / out[3] == pytest.approx(expected)


def test_world_to_view_applies_transposed_rotation_then_translation():
    r, t = camera.rotation_z(90), np.array([1.0, 2.0, 3.0])
    point = np.array([1.0, 0.0, 0.0, 1.0])
    # Row-vector convention X R + T: [1,0,0] @ Rz(90) = [0,-1,0].
    assert np.allclose(camera.world_to_view(r, t) @ point, [1.0, 1.0, 3.0, 1.0])


def test_motion_cameras_still_camera_is_the_projection():
    still, moved = camera.motion_cameras((0, 0, 0), (0, 0, 0), 70, 1.0, 200, 10000)
    assert np.allclose(still, camera.fov_projection(70, 1.0, 200, 10000))
    assert np.allclose(moved, still)


def test_motion_cameras_moved_camera_projects_translated_point():
    _, moved = camera.motion_cameras((0, 0, 0), (20, 0, 0), 90, 1.0, 1.0, 3.0)
    out = moved @ [0.0, 0.0, 1.0, 1.0]
    # x moves by -20/200 = -0.1; tan(45°) = 1, z = 1 → NDC x = -0.1.
    assert out[0] / out[3] == pytest.approx(-0.1)
