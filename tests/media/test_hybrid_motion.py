"""Hybrid motion: RANSAC matrices and optical flow recover a known shift; warps, blur and visualisations."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from deforum.media.hybrid_motion import (
    consistency_blur,
    flow_visualization,
    hybrid_flow,
    identity_matrix,
    image_transform_optical_flow,
    image_transform_ransac,
    ransac_matrix,
    reliability_visualization,
    resize_for_motion,
)

H, W = 96, 128
SHIFT = (5, -3)


@pytest.fixture(scope="module")
def texture() -> np.ndarray:
    """A smooth random colour texture larger than the frames."""
    noise = (np.random.default_rng(7).random((H + 64, W + 72, 3)) * 255).astype(np.uint8)
    return cv2.normalize(cv2.GaussianBlur(noise, (0, 0), 2.0), None, 0, 255, cv2.NORM_MINMAX)


def view(texture: np.ndarray, step: int, shift: tuple[int, int] = SHIFT) -> np.ndarray:
    """The frame at `step`: the texture's content moved right by shift[0] and down by shift[1] per step."""
    x0, y0 = 32 - step * shift[0], 32 - step * shift[1]
    return np.ascontiguousarray(texture[y0:y0 + H, x0:x0 + W])


@pytest.mark.parametrize("kind", ["Affine", "Perspective"])
def test_ransac_matrix_recovers_the_shift(texture, kind):
    matrix = ransac_matrix(view(texture, 0), view(texture, 1), kind)
    assert matrix.shape == ((3, 3) if kind == "Perspective" else (2, 3))
    matrix = matrix / (matrix[2, 2] if kind == "Perspective" else 1)
    assert matrix[:2, :2] == pytest.approx(np.eye(2), abs=0.02)
    assert matrix[:2, 2] == pytest.approx(SHIFT, abs=0.3)


@pytest.mark.parametrize("kind", ["Affine", "Perspective"])
def test_ransac_without_features_is_the_identity(kind):
    flat = np.full((H, W, 3), 128, np.uint8)
    assert (ransac_matrix(flat, flat, kind) == identity_matrix(kind)).all()


def test_ransac_of_unrelated_images_with_few_matches_is_the_identity(texture):
    tiny = np.zeros((H, W), np.uint8)
    cv2.circle(tiny, (40, 40), 10, 255, -1)
    assert (ransac_matrix(tiny, view(texture, 0), "Affine") == np.eye(2, 3)).all()


def test_ransac_refuses_other_kinds(texture):
    with pytest.raises(ValueError, match="Affine"):
        ransac_matrix(view(texture, 0), view(texture, 1), "Optical Flow")


@pytest.mark.parametrize("kind", ["Affine", "Perspective"])
def test_image_transform_ransac_moves_the_image_by_the_matrix(texture, kind):
    frame = view(texture, 0)
    matrix = identity_matrix(kind)
    matrix[:2, 2] = SHIFT
    moved = image_transform_ransac(frame, matrix, kind)
    assert (moved[10:-10, 10:-10] == view(texture, 1)[10:-10, 10:-10]).all()
    assert (image_transform_ransac(frame, identity_matrix(kind), kind) == frame).all()


def test_ransac_edges_are_mirrored():
    ramp = np.tile(np.arange(W, dtype=np.uint8), (H, 1))
    moved = image_transform_ransac(ramp, np.array([[1.0, 0, 2], [0, 1, 0]]), "Affine")
    assert moved[0, :3].tolist() == [2, 1, 0]


@pytest.mark.parametrize("method", ["DIS Medium", "DIS Fine", "Farneback"])
def test_hybrid_flow_recovers_the_shift(texture, method):
    result = hybrid_flow(view(texture, 0), view(texture, 1), method)
    assert result.reliability is None and result.flow.shape == (H, W, 2)
    median = np.median(result.flow[16:-16, 16:-16].reshape(-1, 2), axis=0)
    assert median == pytest.approx(SHIFT, abs=0.1)


def test_consistency_check_weights_the_flow_by_its_occlusion_channel(texture):
    plain = hybrid_flow(view(texture, 0), view(texture, 1), "DIS Medium").flow
    checked = hybrid_flow(view(texture, 0), view(texture, 1), "DIS Medium", consistency=True)
    weight = checked.reliability[..., 0]
    assert checked.reliability.shape == (H, W, 3) and set(np.unique(weight)) <= {-0.75, 1.0}
    assert (weight == 1).mean() > 0.8
    assert checked.flow == pytest.approx(plain * weight[..., None])


def test_consistency_blur_spreads_the_weight(texture):
    checked = hybrid_flow(view(texture, 0), view(texture, 1), "DIS Medium", consistency=True, blur=2)
    unblurred = hybrid_flow(view(texture, 0), view(texture, 1), "DIS Medium", consistency=True)
    assert checked.reliability == pytest.approx(consistency_blur(unblurred.reliability, 2), abs=1e-6)
    assert checked.flow == pytest.approx(unblurred.flow * checked.reliability[..., :1], abs=1e-5)


def test_consistency_blur_is_a_truncated_gaussian_with_zero_borders():
    weights = np.exp(-0.5 * np.arange(-2, 3) ** 2 / 4.0)
    weights /= weights.sum()
    delta = np.zeros((9, 9, 3), np.float32)
    delta[4, 4] = 1
    blurred = consistency_blur(delta, 2)
    assert blurred[2:7, 2:7, 0] == pytest.approx(np.outer(weights, weights), abs=1e-7)
    assert blurred[1, 4, 1] == 0 and blurred.dtype == np.float32
    ones = consistency_blur(np.ones((9, 9, 3), np.float32), 2)
    assert ones[0, 0, 2] == pytest.approx(weights[2:].sum() ** 2) and ones[4, 4, 0] == pytest.approx(1)


@pytest.mark.parametrize(("factor", "shift"), [(1.0, 4), (0.5, 2)])
def test_flow_transform_moves_along_the_flow_times_the_factor(texture, factor, shift):
    frame = view(texture, 0)
    flow = np.zeros((H, W, 2), np.float32)
    flow[..., 0] = 4
    moved = image_transform_optical_flow(frame, flow, factor)
    assert (moved[:, 8:] == frame[:, 8 - shift:W - shift]).all()
    assert (flow[..., 0] == 4).all()


def test_resize_for_motion_is_bilinear(texture):
    frame = view(texture, 0)
    assert (resize_for_motion(frame, (64, 48)) == cv2.resize(frame, (64, 48), interpolation=cv2.INTER_LINEAR)).all()


def test_flow_visualization_tints_moving_pixels(texture):
    flow = np.zeros((H, W, 2), np.float32)
    flow[:, W // 2:, 0] = 6
    picture = flow_visualization(view(texture, 0), flow)
    grey = cv2.cvtColor(cv2.cvtColor(view(texture, 0), cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    assert picture.shape == (H, W, 3) and picture.dtype == np.uint8
    still = np.ones((H, W), bool)
    still[4::8, 4::8] = False
    still[:, W // 2 - 8:] = False
    assert (picture[still] == grey[still]).all()
    assert (picture[4::8, 4:W // 2 - 8:8] == 0).all()
    assert (picture[:, W // 2 + 8:] != grey[:, W // 2 + 8:]).any()


def test_reliability_visualization_scales_and_shows_channel_zero_in_blue():
    reliability = np.ones((4, 4, 3), np.float32)
    reliability[0, 0, 0] = -0.75
    picture = reliability_visualization(reliability)
    assert picture[0, 0].tolist() == [255, 255, 0] and picture[1, 1].tolist() == [255, 255, 255]
    assert (reliability_visualization(np.ones((4, 4, 3), np.float32)) == 0).all()
