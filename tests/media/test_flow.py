"""Optical flow: estimators on a known shift, flow warping, consistency, cadence helpers, RAFT loading."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from deforum.media.flow import (
    RAFT_WEIGHTS_FILE,
    RaftWeightsMissingError,
    cadence_flow_blend,
    cadence_flow_start,
    estimate_flow,
    flow_consistency_mask,
    flow_to_relative,
    load_raft,
    raft_weights_path,
    relative_to_flow,
    warp_by_flow,
)


def _textured(shape: tuple[int, int] = (96, 128)) -> np.ndarray:
    rng = np.random.default_rng(0)
    noise = cv2.GaussianBlur(rng.integers(0, 256, (*shape, 3), dtype=np.uint8), (7, 7), 2)
    return cv2.normalize(noise, None, 0, 255, cv2.NORM_MINMAX)


def _constant_flow(dx: float, dy: float, shape: tuple[int, int] = (96, 128)) -> np.ndarray:
    flow = np.zeros((*shape, 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return flow


@pytest.mark.parametrize("method", ["DIS Medium", "DIS Fine", "Farneback"])
def test_estimators_find_a_known_shift(method):
    a = _textured()
    b = np.roll(a, (1, 3), axis=(0, 1))  # content moves 3 px right, 1 px down
    flow = estimate_flow(a, b, method)
    assert flow.shape == (96, 128, 2) and flow.dtype == np.float32
    interior = flow[20:-20, 20:-20]
    assert np.median(interior[..., 0]) == pytest.approx(3.0, abs=0.3)
    assert np.median(interior[..., 1]) == pytest.approx(1.0, abs=0.3)


@pytest.mark.parametrize("method", ["DIS Medium", "DIS Fine"])
def test_dis_starts_from_the_initial_flow_without_changing_it(method):
    a = _textured()
    b = np.roll(a, 24, axis=1)  # too far for DIS from a standing start
    initial = _constant_flow(24, 0)
    guided = estimate_flow(a, b, method, initial=initial)
    cold = estimate_flow(a, b, method)
    interior = (slice(30, -30), slice(30, -30), 0)
    assert np.median(guided[interior]) == pytest.approx(24.0, abs=0.3)
    assert abs(np.median(cold[interior]) - 24.0) > 5
    assert np.array_equal(initial, _constant_flow(24, 0))
    assert np.array_equal(estimate_flow(a, b, method, initial=_constant_flow(24, 0, (48, 64))), cold)  # wrong size


def test_farneback_ignores_the_initial_flow():
    a = _textured()
    b = np.roll(a, 3, axis=1)
    assert np.array_equal(estimate_flow(a, b, "Farneback", initial=_constant_flow(9, 9)),
                          estimate_flow(a, b, "Farneback"))


def test_unknown_method_and_missing_raft_are_errors():
    a = _textured()
    with pytest.raises(ValueError, match="flow method"):
        estimate_flow(a, a, "Lucas-Kanade")
    with pytest.raises(ValueError, match="load_raft"):
        estimate_flow(a, a, "RAFT")


def test_zero_flow_warp_is_identity():
    a = _textured()
    assert np.array_equal(warp_by_flow(a, _constant_flow(0, 0)), a)


def test_integer_flow_moves_content_along_it():
    a = _textured()
    out = warp_by_flow(a, _constant_flow(2, -1))
    assert np.array_equal(out[:-1, 2:], a[1:, :-2])  # out(y, x) = a(y + 1, x - 2)


def test_flow_warp_reflects_at_the_edges():
    a = _textured()
    out = warp_by_flow(a, _constant_flow(2, 0))
    assert np.array_equal(out[:, 0], a[:, 2]) and np.array_equal(out[:, 1], a[:, 1])  # reflect-101


def test_consistent_flows_are_reliable_and_inconsistent_ones_are_not():
    forward, backward = _constant_flow(2, 1), _constant_flow(-2, -1)
    mask = flow_consistency_mask(forward, backward)
    assert mask.shape == (96, 128, 3) and mask.dtype == np.float32
    assert (mask[..., 0] == 1).all() and (mask[..., 1] == 1).all()
    assert (flow_consistency_mask(forward, forward)[..., 0] == -0.75).all()


def test_motion_edges_are_marked_in_channel_two():
    forward = _constant_flow(0, 0)
    forward[:, 64:, 0] = 5.0
    mask = flow_consistency_mask(forward, -forward)
    assert (mask[:, 63, 2] == 0).all() and (mask[:, 30, 2] == 1).all()


def test_relative_flow_round_trip_keeps_the_shape_of_the_field():
    flow = np.random.default_rng(1).normal(0, 3, (20, 30, 2)).astype(np.float32)
    relative = flow_to_relative(flow)
    assert max(np.abs(relative[..., 0] * 30).max(), np.abs(relative[..., 1] * 20).max()) == pytest.approx(1.0)
    restored = relative_to_flow(relative)
    assert np.allclose(restored, flow / np.abs(flow).max(), atol=1e-6)  # the original's unit-peak increment


def test_zero_flow_stays_zero_without_nan():
    zero = np.zeros((8, 8, 2), np.float32)
    assert np.array_equal(relative_to_flow(flow_to_relative(zero)), zero)


def test_cadence_start_halves_the_flow_and_pulls_next_back():
    a = _textured()
    b = np.roll(a, 4, axis=1)
    half, pulled = cadence_flow_start(a, b, "DIS Medium")
    assert np.median(half[20:-20, 20:-20, 0]) == pytest.approx(2.0, abs=0.2)
    assert np.abs(pulled[20:-20, 20:-20].astype(int) - np.roll(a, 2, axis=1)[20:-20, 20:-20]).mean() < 8


def test_cadence_blend_moves_both_frames_and_blends():
    prev_image, next_image = _textured(), _textured()[::-1].copy()
    relative = flow_to_relative(_constant_flow(3, 0))
    new_prev, new_next, frame = cadence_flow_blend(prev_image, next_image, relative, 0.5, 2.0)
    # unit-peak flow (1 px) × tween 0.5 × factor 2 = 1 px right
    assert np.array_equal(new_prev[:, 1:], prev_image[:, :-1])
    assert np.array_equal(frame, np.clip(np.rint(new_prev * 0.5 + new_next * 0.5), 0, 255).astype(np.uint8))
    _, _, last = cadence_flow_blend(prev_image, next_image, relative, 1.0, 1.0, advance_prev=False)
    assert np.array_equal(last, warp_by_flow(next_image, relative_to_flow(relative)))


def test_missing_raft_weights_name_the_file_and_place(tmp_path):
    path = raft_weights_path(tmp_path)
    assert path == tmp_path / "Deforum" / RAFT_WEIGHTS_FILE
    with pytest.raises(RaftWeightsMissingError, match="raft_large_C_T_SKHT_V2-ff5fadd5.pth") as error:
        load_raft(path)
    assert isinstance(error.value, FileNotFoundError) and "Deforum" in str(error.value)


@pytest.mark.slow
def test_raft_with_random_weights_gives_a_finite_flow(tmp_path):
    from torchvision.models.optical_flow import raft_large

    path = raft_weights_path(tmp_path)
    path.parent.mkdir()
    torch.manual_seed(0)
    torch.save(raft_large(weights=None, progress=False).state_dict(), path)
    a = _textured((64, 64))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # RAFT's 50 updates crawl when threads contend on a busy machine
    try:
        flow = estimate_flow(a, np.roll(a, 2, axis=1), "RAFT", raft=load_raft(path))
    finally:
        torch.set_num_threads(threads)
    assert flow.shape == (64, 64, 2) and flow.dtype == np.float32 and np.isfinite(flow).all()
