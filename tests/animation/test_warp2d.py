"""2D warp matrices against hand-computed ones, and their effect on known pixels."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from deforum.animation import warp2d


def _flip_scale_and_side(width: int, height: int, fv: float) -> tuple[float, float]:
    """The flip's built-in zoom h/(h+1) (its projection keeps w = 1 - z) and its square side d/cos(fv/2)."""
    diagonal = math.hypot(width, height)
    distance = diagonal / (2 * math.sin(math.radians(fv / 2)))
    return distance / (distance + 1), diagonal / math.cos(math.radians(fv / 2))


@pytest.mark.parametrize("angle, zoom, cx, cy", [(0, 1, 0.5, 0.5), (30, 1.2, 0.25, 0.75), (-90, 0.5, 0.5, 0.5)])
def test_rotation_zoom_matches_opencv(angle, zoom, cx, cy):
    expected = cv2.getRotationMatrix2D((64 * cx, 48 * cy), angle, zoom)
    assert np.allclose(warp2d.rotation_zoom_matrix(64, 48, angle, zoom, cx, cy)[:2], expected)


def test_rotation_by_90_hand_computed():
    # alpha = cos 90 = 0, beta = sin 90 = 1, centre (3, 3): [[0, 1, cx - cy], [-1, 0, cx + cy]].
    expected = [[0, 1, 0], [-1, 0, 6], [0, 0, 1]]
    assert np.allclose(warp2d.rotation_zoom_matrix(6, 6, 90, 1.0, 0.5, 0.5), expected)


def test_translation_matrix():
    assert np.allclose(warp2d.translation_matrix(3, -2), [[1, 0, 3], [0, 1, -2], [0, 0, 1]])


def test_identity_warp_is_exact():
    image = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    assert np.array_equal(warp2d.warp_perspective(image, np.eye(3)), image)


def test_90_degree_rotation_moves_a_known_pixel():
    image = np.zeros((6, 6, 3), dtype=np.uint8)
    image[1, 2] = 200  # (x=2, y=1) → x' = y = 1, y' = 6 - x = 4
    out = warp2d.warp_perspective(image, warp2d.rotation_zoom_matrix(6, 6, 90, 1.0, 0.5, 0.5))
    assert out[4, 1].tolist() == [200, 200, 200]
    assert out.sum() == 600


def test_zoom_2_doubles_distance_from_centre():
    image = np.zeros((16, 16, 3), dtype=np.uint8)
    image[8, 10] = 255  # 2 px right of the centre (8, 8)
    out = warp2d.warp_perspective(image, warp2d.rotation_zoom_matrix(16, 16, 0, 2.0, 0.5, 0.5))
    assert out[8, 12].tolist() == [255, 255, 255]
    assert np.unravel_index(np.argmax(out[..., 0]), out.shape[:2]) == (8, 12)


def test_translation_then_rotation_order():
    # Translation is applied first, then rotate/zoom: with zoom 2 a 1 px shift becomes 2 px.
    m = warp2d.motion_matrix_2d(16, 16, angle=0, zoom=2.0, translation_x=1, translation_y=0, center_x=0.5,
                                center_y=0.5)
    assert np.allclose(m @ [8, 8, 1], [10, 8, 1])


@pytest.mark.parametrize("border", ["replicate", "wrap"])
def test_translation_borders(border):
    image = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    out = warp2d.warp_perspective(image, warp2d.translation_matrix(3, 0), border)
    assert np.array_equal(out[:, 3:], image[:, :5])
    expected_left = image[:, 5:] if border == "wrap" else np.repeat(image[:, :1], 3, axis=1)
    assert np.array_equal(out[:, :3], expected_left)


def test_unknown_border_is_rejected():
    with pytest.raises(ValueError, match="border"):
        warp2d.warp_perspective(np.zeros((4, 4, 3), np.uint8), np.eye(3), "reflect")


def test_perspective_flip_with_zero_angles_is_the_originals_slight_zoom():
    scale, side = _flip_scale_and_side(64, 48, 53)
    shift = (1 - scale) * side / 2
    expected = [[scale, 0, shift], [0, scale, shift], [0, 0, 1]]
    assert np.allclose(warp2d.perspective_flip_matrix(64, 48, 0, 0, 0, 53), expected, atol=1e-4)


def test_perspective_flip_theta_rotates_in_plane():
    width, height, theta = 64, 48, 90
    scale, side = _flip_scale_and_side(width, height, 53)
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    offset = np.array([(width - side) / 2 - width / 2, (height - side) / 2 - height / 2])
    m = warp2d.perspective_flip_matrix(width, height, theta, 0, 0, 53)
    for point in ([0.0, 0.0], [10.0, 5.0], [63.0, 47.0]):
        expected = scale * rotation @ (np.array(point) + offset) + side / 2
        out = m @ [*point, 1.0]
        assert np.allclose(out[:2] / out[2], expected, atol=1e-3)


def test_perspective_flip_tilt_is_projective():
    m = warp2d.perspective_flip_matrix(64, 48, 0, 30, 0, 53)
    assert np.isfinite(m).all()
    assert abs(m[2, 1]) > 1e-4 and m[2, 0] == pytest.approx(0, abs=1e-9)


def test_flip_drops_translation_like_the_original():
    flip = warp2d.perspective_flip_matrix(64, 48, 10, 0, 0, 53)
    with_shift = warp2d.motion_matrix_2d(64, 48, angle=5, zoom=1.1, translation_x=7, translation_y=3, center_x=0.5,
                                         center_y=0.5, flip=flip)
    without = warp2d.motion_matrix_2d(64, 48, angle=5, zoom=1.1, translation_x=0, translation_y=0, center_x=0.5,
                                      center_y=0.5, flip=flip)
    assert np.allclose(with_shift, without)
