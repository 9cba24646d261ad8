"""Colour coherence: histogram matching equal to scikit-image's, colour spaces, the BGR quirk, policies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from deforum.media.color import (
    match_color,
    match_histograms,
    matches_after_generation,
    prepare_reference,
    reference_follows_generation,
)

ROOT = Path(__file__).resolve().parents[2]


def _skimage_match(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """scikit-image's match_histograms(channel_axis=-1) written out: np.unique quantiles, uint8 assignment."""
    matched = np.empty(image.shape, dtype=image.dtype)
    for c in range(image.shape[-1]):
        src_values, src_index, src_counts = np.unique(image[..., c].ravel(), return_inverse=True, return_counts=True)
        ref_values, ref_counts = np.unique(reference[..., c].ravel(), return_counts=True)
        src_q = np.cumsum(src_counts) / image[..., c].size
        ref_q = np.cumsum(ref_counts) / reference[..., c].size
        matched[..., c] = np.interp(src_q, ref_q, ref_values)[src_index].reshape(image.shape[:2])
    return matched


def _images(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    image = cv2.GaussianBlur(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), (5, 5), 2)
    reference = np.clip(rng.normal(150, 40, (40, 56, 3)), 0, 255).astype(np.uint8)
    return image, reference


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_match_histograms_equals_scikit_image(seed):
    image, reference = _images(seed)
    assert np.array_equal(match_histograms(image, reference), _skimage_match(image, reference))


def test_matched_histogram_follows_the_reference():
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    reference = np.clip(rng.normal(90, 25, (150, 150, 3)), 0, 255).astype(np.uint8)
    matched = match_histograms(image, reference)
    for c in range(3):
        cdf_out = np.cumsum(np.bincount(matched[..., c].ravel(), minlength=256)) / matched[..., c].size
        cdf_ref = np.cumsum(np.bincount(reference[..., c].ravel(), minlength=256)) / reference[..., c].size
        assert np.abs(cdf_out - cdf_ref).max() < 0.02


def test_none_mode_returns_a_copy():
    image, reference = _images()
    out = match_color(image, reference, "None")
    assert np.array_equal(out, image) and out is not image


def test_rgb_mode_matches_raw_channels():
    image, reference = _images()
    assert np.array_equal(match_color(image, reference, "RGB"), _skimage_match(image, reference))


@pytest.mark.parametrize("mode, space", [("LAB", "LAB"), ("HSV", "HSV"), ("Image", "LAB"), ("Video Input", "LAB")])
def test_colour_space_modes_reproduce_the_originals_bgr_data_path(mode, space):
    """The original held BGR frames and converted them with RGB codes; on RGB frames that equals the BGR codes."""
    image, reference = _images()
    to_code = {"LAB": cv2.COLOR_RGB2LAB, "HSV": cv2.COLOR_RGB2HSV}[space]
    back_code = {"LAB": cv2.COLOR_LAB2RGB, "HSV": cv2.COLOR_HSV2RGB}[space]
    bgr_image, bgr_reference = image[..., ::-1].copy(), reference[..., ::-1].copy()
    original = cv2.cvtColor(
        _skimage_match(cv2.cvtColor(bgr_image, to_code), cv2.cvtColor(bgr_reference, to_code)), back_code
    )
    assert np.array_equal(match_color(image, reference, mode), original[..., ::-1])


def test_prepared_reference_gives_the_same_result():
    image, reference = _images()
    for mode in ("LAB", "HSV", "RGB", "Image"):
        assert np.array_equal(match_color(image, prepare_reference(reference, mode), mode),
                              match_color(image, reference, mode))


def test_prepared_reference_must_match_the_space():
    image, reference = _images()
    with pytest.raises(ValueError, match="prepared for HSV"):
        match_color(image, prepare_reference(reference, "HSV"), "LAB")


def test_unknown_mode_is_rejected():
    image, reference = _images()
    with pytest.raises(ValueError, match="Lab"):
        match_color(image, reference, "Lab")


def test_match_after_generation_policy():
    assert matches_after_generation("LAB", frame=5, legacy=False, has_reference=True)
    assert not matches_after_generation("LAB", frame=5, legacy=True, has_reference=True)
    assert not matches_after_generation("LAB", frame=0, legacy=False, has_reference=False)
    assert not matches_after_generation("None", frame=5, legacy=False, has_reference=True)
    assert matches_after_generation("Image", frame=0, legacy=True, has_reference=True)
    assert matches_after_generation("Video Input", frame=0, legacy=True, has_reference=True, video_reference=True)
    assert not matches_after_generation("Video Input", frame=0, legacy=True, has_reference=True)


def test_reference_update_policy():
    assert reference_follows_generation("LAB", legacy=False, used_init=False, strength=0.6)
    assert not reference_follows_generation("LAB", legacy=False, used_init=True, strength=0.0)
    assert reference_follows_generation("LAB", legacy=True, used_init=True, strength=0.0)
    assert not reference_follows_generation("LAB", legacy=True, used_init=False, strength=0.6)
    assert not reference_follows_generation("Image", legacy=False, used_init=False, strength=0.0)


def test_importing_color_does_not_import_torch():
    code = "import sys, deforum.media.color; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)

