"""Contrast, unsharp mask, forced greyscale and cadence blend against the original's float formulas."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from deforum.media.image_ops import apply_contrast, blend, to_grayscale, unsharp_mask, wrap_to_uint8


def _image(seed: int = 0, shape: tuple[int, int, int] = (40, 52, 3)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (3, 3), 1)


def _float_unsharp(image: np.ndarray, kernel: int, sigma: float, amount: float, threshold: float) -> np.ndarray:
    """The original's unsharp mask written out in float64 (uint8 subtraction for the threshold)."""
    blurred = cv2.GaussianBlur(image, (kernel, kernel), sigma)
    sharpened = np.clip(float(amount + 1) * image - float(amount) * blurred, 0, 255).round().astype(np.uint8)
    if threshold > 0:
        np.copyto(sharpened, image, where=np.absolute(image - blurred) < threshold)
    return sharpened


def test_contrast_rounds_half_to_even_and_wraps_like_the_originals_uint8_cast():
    image = np.array([[[1, 3, 5]], [[200, 255, 0]]], dtype=np.uint8)
    assert apply_contrast(image, 0.5).tolist() == [[[0, 2, 2]], [[100, 128, 0]]]
    assert apply_contrast(image, 2.0)[1].tolist() == [[144, 254, 0]]  # 400 → 144, 510 → 254
    assert apply_contrast(np.array([[[130]]], np.uint8), 2.0).item() == 4  # 260 → 4


def test_wrap_to_uint8_is_numpys_x86_cast():
    positive = np.array([0.0, 255.0, 256.0, 260.0, 70000.0])
    assert wrap_to_uint8(positive).tolist() == positive.astype(np.uint8).tolist() == [0, 255, 0, 4, 112]
    outside = np.array([-3.0, 2.0**31 + 5, -(2.0**31) - 5, np.nan, np.inf])
    assert wrap_to_uint8(outside).tolist() == [253, 0, 0, 0, 0]  # x86's int32 conversion, then the low byte


def test_contrast_matches_the_float_formula():
    image = _image()
    for contrast in (0.0, 0.37, 0.95, 1.0, 1.3, 2.6):
        assert np.array_equal(apply_contrast(image, contrast), (image * contrast).round().astype(np.uint8))


@pytest.mark.parametrize("kernel, sigma, amount, threshold", [(5, 1.0, 0.1, 0), (3, 0.5, 1.7, 0), (9, 2.0, 0.4, 6)])
def test_unsharp_matches_the_originals_float_formula(kernel, sigma, amount, threshold):
    image = _image(1)
    expected = _float_unsharp(image, kernel, sigma, amount, threshold)
    assert np.array_equal(unsharp_mask(image, kernel, sigma, amount, threshold), expected)


@pytest.mark.parametrize("view", ["flipped columns", "one channel", "grey 2D"])
def test_unsharp_handles_strided_and_single_channel_frames(view):
    image = {"flipped columns": _image(2)[:, ::-1], "one channel": _image(2)[..., :1],
             "grey 2D": _image(2)[..., 0]}[view]
    expected = _float_unsharp(np.ascontiguousarray(image.squeeze()), 5, 1.0, 0.6, 0).reshape(image.shape)
    assert np.array_equal(unsharp_mask(image, 5, 1.0, 0.6), expected)  # OpenCV's blur drops H×W×1's channel


def test_unsharp_threshold_uses_wrapped_uint8_difference():
    image = np.full((9, 9, 3), 100, np.uint8)
    image[4, 4] = 103  # brighter than its blur by < 10 → kept
    image[2, 2] = 90  # darker: 8-bit wrap makes the difference large → sharpened
    out = unsharp_mask(image, 3, 1.0, 1.0, threshold=10)
    assert out[4, 4, 0] == 103
    assert out[2, 2, 0] < 90


def test_unsharp_amount_zero_is_identity():
    image = _image()
    assert np.array_equal(unsharp_mask(image, 5, 1.0, 0.0), image)


def test_unsharp_even_kernel_uses_next_odd_size():
    image = _image(2)
    assert np.array_equal(unsharp_mask(image, 4, 1.0, 0.5), unsharp_mask(image, 5, 1.0, 0.5))


def test_unsharp_mask_limits_sharpening():
    image = _image(3)
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[:, :20] = 255
    out = unsharp_mask(image, 5, 1.0, 1.0, mask=mask)
    full = unsharp_mask(image, 5, 1.0, 1.0)
    assert np.array_equal(out[:, :20], full[:, :20]) and np.array_equal(out[:, 20:], image[:, 20:])


def test_grayscale_uses_luma_weights_on_three_channels():
    image = _image(4)
    out = to_grayscale(image)
    expected = cv2.cvtColor(image[..., ::-1].copy(), cv2.COLOR_BGR2GRAY)  # the original's BGR frame path
    assert out.shape == image.shape and np.array_equal(out[..., 0], expected)
    assert np.array_equal(out[..., 0], out[..., 2])


def test_grayscale_pil_weights_match_pil_l_conversion():
    image = _image(5)
    expected = np.asarray(Image.fromarray(image).convert("L"))
    assert np.array_equal(to_grayscale(image, pil_weights=True)[..., 1], expected)


def test_blend_weights_and_rounding():
    a = np.array([[[0, 10, 255]]], np.uint8)
    b = np.array([[[1, 20, 0]]], np.uint8)
    assert blend(a, b, 0.5).tolist() == [[[0, 15, 128]]]  # 0.5 → 0 and 127.5 → 128 (half to even)
    assert np.array_equal(blend(a, b, 0.0), a) and np.array_equal(blend(a, b, 1.0), b)
    assert blend(a, b, 0.25).tolist() == [[[0, 12, 191]]]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), kernel=st.sampled_from([1, 3, 5, 7]), sigma=st.floats(0.3, 3.0),
       amount=st.floats(0.0, 3.0), threshold=st.integers(0, 40))
def test_unsharp_lookup_equals_the_float_formula_for_any_parameters(seed, kernel, sigma, amount, threshold):
    image = _image(seed, (17, 23, 3))
    expected = _float_unsharp(image, kernel, sigma, amount, threshold) if amount else image
    assert np.array_equal(unsharp_mask(image, kernel, sigma, amount, threshold), expected)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), contrast=st.floats(0.0, 4.0))
def test_contrast_is_the_rounded_product_modulo_256_for_any_factor(seed, contrast):
    image = _image(seed, (9, 11, 3))
    expected = (np.round(image * contrast).astype(np.int64) % 256).astype(np.uint8)
    out = apply_contrast(image, contrast)
    assert out.dtype == np.uint8 and out.shape == image.shape and np.array_equal(out, expected)
