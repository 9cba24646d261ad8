"""Hybrid compositing: every mask type, inversion, grading order and the final blend, against hand values."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from deforum.media.hybrid import auto_contrast_mask, hybrid_composite, masked_composite

H, W = 8, 16
RED, BLACK = (255, 0, 0), (0, 0, 0)


def solid(value: int | tuple[int, int, int]) -> np.ndarray:
    """An H×W RGB image of one colour (an int is grey)."""
    rgb = (value,) * 3 if isinstance(value, int) else value
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (H, W, 3)).copy()


def halves(left: int, right: int) -> np.ndarray:
    """A grey image: `left` on the left half, `right` on the right half."""
    image = solid(left)
    image[:, W // 2:] = right
    return image


def comp(prev: np.ndarray, video: np.ndarray, **options) -> tuple[np.ndarray, np.ndarray | None]:
    """hybrid_composite with neutral options unless overridden."""
    defaults = dict(alpha=1.0, mask_type="None", mask_inverse=False, equalize="None", auto_contrast=False,
                    cutoff_low=0, cutoff_high=100, mask_contrast=1.0, mask_blend_alpha=0.5)
    return hybrid_composite(prev, video, **{**defaults, **options})


def test_importing_hybrid_does_not_import_torch():
    code = "import sys, deforum.media.hybrid, deforum.media.hybrid_motion; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("alpha", "expected"), [(0.0, 100), (0.25, 125), (0.5, 150), (1.0, 200), (1.5, 250),
                                                  (2.0, 255), (-1.0, 0), (0.333, 133)])
def test_no_mask_is_a_plain_blend_toward_the_video_frame(alpha, expected):
    out, mask = comp(solid(100), solid(200), alpha=alpha)
    assert mask is None and out.dtype == np.uint8 and out.shape == (H, W, 3)
    assert (out == expected).all()


def test_blend_truncates_like_pillow():
    out, _ = comp(solid(10), solid(15), alpha=0.5)
    assert (out == 12).all()
    out, _ = comp(solid(15), solid(10), alpha=0.5)
    assert (out == 12).all()


def test_difference_mask_is_grey_difference_in_rgb_order():
    # pure red is grey 76 with Rec. 601 weights (it would be 29 if the channels were read as BGR)
    out, mask = comp(solid(RED), solid(BLACK), mask_type="Difference")
    assert (mask == 76).all()
    # composite: previous where the mask is white, video where black: 255·76/255 for red, 0 elsewhere
    assert (out == (76, 0, 0)).all()


def test_difference_mask_composite_rounds():
    out, mask = comp(solid(100), solid(160), mask_type="Difference")
    assert (mask == 60).all()
    # 160 + (100 − 160)·60/255 = 145.88 → 146
    assert (out == 146).all()


def test_blend_mask_mixes_the_two_greys_by_mask_blend_alpha():
    _, mask = comp(solid(RED), solid(BLACK), mask_type="Blend", mask_blend_alpha=0.5)
    assert (mask == 38).all()
    _, mask = comp(solid(RED), solid(BLACK), mask_type="Blend", mask_blend_alpha=0.25)
    assert (mask == 57).all()


def test_inverse_flips_the_mask_before_grading():
    out, mask = comp(solid(100), solid(160), mask_type="Difference", mask_inverse=True)
    assert (mask == 195).all()
    # 160 + (100 − 160)·195/255 = 114.1 → 114
    assert (out == 114).all()


def test_inverse_without_a_mask_type_does_nothing():
    out, mask = comp(solid(100), solid(160), alpha=0.5, mask_inverse=True)
    assert mask is None and (out == 130).all()


@pytest.mark.parametrize("channels", [1, 3])
def test_depth_mask_selects_previous_where_white_and_video_where_black(channels):
    depth = halves(255, 0) if channels == 3 else halves(255, 0)[..., 0]
    prev, video = solid(40), solid(220)
    out, mask = comp(prev, video, mask_type="Depth", depth=depth)
    assert (mask == halves(255, 0)[..., 0]).all()
    assert (out[:, : W // 2] == 40).all() and (out[:, W // 2:] == 220).all()
    out, _ = comp(prev, video, mask_type="Depth", depth=depth, mask_inverse=True)
    assert (out[:, : W // 2] == 220).all() and (out[:, W // 2:] == 40).all()


def test_video_depth_mask_uses_the_video_depth_image():
    out, mask = comp(solid(40), solid(220), mask_type="Video Depth", video_depth=halves(0, 255), alpha=0.5)
    assert (mask[:, W // 2:] == 255).all()
    # left: blend(40, video 220, 0.5) = 130; right: blend(40, prev 40, 0.5) = 40
    assert (out[:, : W // 2] == 130).all() and (out[:, W // 2:] == 40).all()


@pytest.mark.parametrize("mask_type", ["Depth", "Video Depth"])
def test_depth_masks_need_their_image(mask_type):
    with pytest.raises(ValueError, match=mask_type):
        comp(solid(1), solid(2), mask_type=mask_type)


def test_depth_image_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match="Depth"):
        comp(solid(1), solid(2), mask_type="Depth", depth=np.zeros((H + 1, W), np.uint8))


def test_contrast_stretches_around_the_mean():
    # mask halves 0/100, mean 50; contrast 2 → 50 + 2·(v − 50): 0 → −50 → 0, 100 → 150
    _, mask = comp(halves(0, 0), halves(0, 100), mask_type="Difference", mask_contrast=2.0)
    assert (mask[:, : W // 2] == 0).all() and (mask[:, W // 2:] == 150).all()


def test_auto_contrast_maps_percentiles_to_full_range():
    assert auto_contrast_mask(np.array([[50, 100, 150]], np.uint8), 0, 100).tolist() == [[0, 127, 255]]
    ramp = np.arange(100, dtype=np.uint8).reshape(10, 10)
    # percentiles 10/90 of 0..99 are 9.9 and 89.1; 255·(v − 9.9)/79.2, clipped, truncated
    expected = np.clip(255 * (ramp - 9.9) / 79.2, 0, 255).astype(np.uint8)
    assert (auto_contrast_mask(ramp, 10, 90) == expected).all()
    assert auto_contrast_mask(ramp, 10, 90)[5, 0] == 129


def test_auto_contrast_of_a_flat_mask_leaves_it():
    assert (auto_contrast_mask(np.full((4, 4), 9, np.uint8), 0, 100) == 9).all()


def test_auto_contrast_runs_inside_the_composite_with_after_equalisation():
    # the original handed Pillow a float mask here and failed; the stretched mask is 8-bit
    out, mask = comp(solid(0), solid(200), mask_type="Difference", auto_contrast=True, equalize="After")
    assert mask.dtype == np.uint8 and mask.shape == (H, W)
    _, mask = comp(halves(0, 0), halves(50, 100), mask_type="Difference", auto_contrast=True)
    assert (mask[:, : W // 2] == 0).all() and (mask[:, W // 2:] == 255).all()


def _graded(raw: Image.Image, order: list[str]) -> np.ndarray:
    """Apply Pillow's grading steps in the given order."""
    for step in order:
        raw = ImageOps.equalize(raw) if step == "eq" else ImageEnhance.Contrast(raw).enhance(1.7)
    return np.asarray(raw)


@pytest.mark.parametrize(("equalize", "order"), [("Before", ["eq", "contrast"]), ("After", ["contrast", "eq"]),
                                                 ("Both", ["eq", "contrast", "eq"]), ("None", ["contrast"])])
def test_equalisation_happens_before_and_or_after_contrast(equalize, order):
    prev = np.tile(np.arange(0, 256, 16, dtype=np.uint8)[:W], (H, 1))[..., None].repeat(3, axis=2) // 3
    video = solid(0)
    _, mask = comp(prev, video, mask_type="Difference", equalize=equalize, mask_contrast=1.7)
    assert (mask == _graded(Image.fromarray(prev[..., 0]), order)).all()


def test_masked_composite_is_previous_over_video():
    mask = halves(255, 0)[..., 0]
    out = masked_composite(solid(RED), solid(BLACK), mask)
    assert (out[:, : W // 2] == RED).all() and (out[:, W // 2:] == 0).all()


@pytest.mark.parametrize("bad", [dict(mask_type="Luma"), dict(mask_type="Blend", equalize="Sometimes")])
def test_bad_choices_are_refused(bad):
    with pytest.raises(ValueError):
        comp(solid(1), solid(2), **bad)


def test_frames_must_match_and_be_rgb_uint8():
    with pytest.raises(ValueError, match="same size"):
        comp(solid(1), np.zeros((H, W + 8, 3), np.uint8))
    with pytest.raises(ValueError, match="prev_image"):
        comp(solid(1).astype(np.float32), solid(2))
