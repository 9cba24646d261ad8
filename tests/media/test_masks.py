"""Masks: file and alpha loading, brightness/contrast, invert, blank checks, binarizing, blur and overlay."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from deforum.media.frames_io import ImageSourceError
from deforum.media.masks import (
    adjust_mask,
    alpha_mask,
    as_mask,
    binarize_mask,
    blur_mask,
    do_overlay_mask,
    invert_mask,
    load_alpha_mask,
    load_mask_file,
    usable_mask,
)


def _save(path, array: np.ndarray) -> str:
    """Write an array as a PNG and return its path as text."""
    Image.fromarray(array).save(path)
    return str(path)


def test_import_does_not_load_torch() -> None:
    code = ("import sys, deforum.media.masks, deforum.prompt.mask_expressions; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_as_mask_converts_rgb_bool_and_resizes() -> None:
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[:, :3] = (255, 255, 255)
    grey = as_mask(rgb)
    assert grey.shape == (4, 6) and grey[0, 0] == 255 and grey[0, 5] == 0
    assert as_mask(np.eye(3, dtype=bool)).tolist() == (np.eye(3) * 255).tolist()
    assert as_mask(grey, (12, 8)).shape == (8, 12)
    with pytest.raises(TypeError):
        as_mask(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError):
        as_mask(np.zeros((2, 2, 2), np.uint8))


def test_load_mask_file_resizes_and_greys(tmp_path) -> None:
    colour = np.zeros((10, 20, 3), np.uint8)
    colour[:, 10:] = (255, 0, 0)
    path = _save(tmp_path / "m.png", colour)
    mask = load_mask_file(path, (40, 20))
    assert mask.shape == (20, 40) and mask.dtype == np.uint8
    assert mask[10, 5] == 0 and mask[10, 35] == 76  # PIL luma of pure red


def test_load_mask_file_errors_name_the_setting(tmp_path) -> None:
    with pytest.raises(ImageSourceError, match="mask_file"):
        load_mask_file(str(tmp_path / "missing.png"), (8, 8))
    with pytest.raises(ImageSourceError, match="offline"):
        load_mask_file("https://deforum.github.io/a1/M1.jpg", (8, 8))


def test_brightness_and_contrast_are_not_swapped(tmp_path) -> None:
    white = np.full((4, 4, 3), 255, np.uint8)
    path = _save(tmp_path / "white.png", white)
    assert load_mask_file(path, (4, 4), brightness=0.5).max() == 127
    assert load_mask_file(path, (4, 4), contrast=0.5).max() == 255  # a flat image has no contrast to change
    half = np.zeros((4, 4, 3), np.uint8)
    half[:, 2:] = 200
    path = _save(tmp_path / "half.png", half)
    contrasted = load_mask_file(path, (4, 4), contrast=2.0)
    assert contrasted[0, 0] == 0 and contrasted[0, 3] == 255
    assert load_mask_file(path, (4, 4), brightness=0.5)[0, 3] == 100


@pytest.mark.parametrize(("brightness", "contrast"), [(1.0, 1.0), (0.3, 1.0), (1.0, 2.5), (1.7, 0.4), (-1.0, 1.0)])
def test_adjust_mask_matches_pil_enhance(brightness: float, contrast: float) -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    pil = Image.fromarray(image)
    pil = ImageEnhance.Brightness(pil).enhance(brightness) if brightness != 1 else pil
    pil = ImageEnhance.Contrast(pil).enhance(contrast) if contrast != 1 else pil
    assert np.array_equal(adjust_mask(image, brightness, contrast), np.array(pil.convert("L")))


def test_adjust_mask_rejects_non_finite() -> None:
    with pytest.raises(ValueError, match="mask_contrast_adjust"):
        adjust_mask(np.zeros((2, 2), np.uint8), 1.0, float("nan"))


def test_alpha_mask_from_rgba_file(tmp_path) -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 0
    rgba[:, 4:, 3] = 255
    mask = load_alpha_mask(_save(tmp_path / "a.png", rgba), (8, 8))
    assert mask is not None and mask[0, 0] == 0 and mask[0, 7] == 255
    assert load_alpha_mask(_save(tmp_path / "b.png", rgba), (16, 4)).shape == (4, 16)


def test_alpha_mask_absent_or_blank_is_none(tmp_path) -> None:
    assert load_alpha_mask(_save(tmp_path / "rgb.png", np.zeros((4, 4, 3), np.uint8)), (4, 4)) is None
    opaque = np.full((4, 4, 4), 255, np.uint8)
    assert load_alpha_mask(_save(tmp_path / "opaque.png", opaque), (4, 4)) is None
    assert alpha_mask(np.zeros((4, 4, 4), np.uint8)) is None
    half = np.full((4, 4, 4), 128, np.uint8)
    assert alpha_mask(half).tolist() == [[128] * 4] * 4
    assert alpha_mask(np.zeros((4, 4, 3), np.uint8)) is None
    with pytest.raises(ImageSourceError, match="init_image"):
        load_alpha_mask(str(tmp_path / "nope.png"), (4, 4))


def test_invert_and_usable_mask() -> None:
    mask = np.array([[0, 100], [255, 30]], np.uint8)
    assert invert_mask(mask).tolist() == [[255, 155], [0, 225]]
    black, white = np.zeros((2, 2), np.uint8), np.full((2, 2), 255, np.uint8)
    assert usable_mask(None) is None
    assert usable_mask(black) is None and usable_mask(black, invert=True) is not None
    assert usable_mask(white, invert=True) is None and usable_mask(white) is not None
    assert usable_mask(mask, invert=True) is not None


def test_binarize_mask_matches_pil_mode_1() -> None:
    ramp = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (4, 1))
    assert np.array_equal(binarize_mask(ramp), np.array(Image.fromarray(ramp).convert("1")))
    hard = np.array([[0, 255], [255, 0]], np.uint8)
    assert binarize_mask(hard).tolist() == [[False, True], [True, False]]


def test_blur_mask_uses_the_webui_kernel() -> None:
    mask = np.zeros((3, 21), np.uint8)
    mask[:, 10:] = 255
    assert np.array_equal(blur_mask(mask, 0), mask)
    blurred = blur_mask(mask, 2)
    assert blurred[1, 4] == 0 and blurred[1, 5] > 0 and blurred[1, 16] == 255  # 11-pixel kernel for radius 2
    assert 0 < blurred[1, 9] < 128 < blurred[1, 10] < 255


def test_overlay_keeps_white_and_pastes_black() -> None:
    generated = np.full((4, 4, 3), 200, np.uint8)
    background = np.full((4, 4, 3), 10, np.uint8)
    mask = np.zeros((4, 4), np.uint8)
    mask[:, 2:] = 255
    out = do_overlay_mask(generated, background, mask)
    assert out[0, 0].tolist() == [10, 10, 10] and out[0, 3].tolist() == [200, 200, 200]
    inverted = do_overlay_mask(generated, background, mask, invert=True)
    assert inverted[0, 0].tolist() == [200, 200, 200] and inverted[0, 3].tolist() == [10, 10, 10]


def test_overlay_matches_pil_composite_and_resizes_background() -> None:
    rng = np.random.default_rng(5)
    generated = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    background = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
    mask = rng.integers(0, 256, (6, 8), dtype=np.uint8)
    big = np.array(Image.fromarray(background).resize((8, 6), Image.LANCZOS))
    expected = Image.composite(Image.fromarray(generated), Image.fromarray(big), Image.fromarray(mask))
    assert np.array_equal(do_overlay_mask(generated, background, mask), np.array(expected))


def test_overlay_with_blur_softens_the_seam() -> None:
    generated = np.full((16, 16, 3), 255, np.uint8)
    background = np.zeros((16, 16, 3), np.uint8)
    mask = np.zeros((16, 16), np.uint8)
    mask[:, 8:] = 255
    hard = do_overlay_mask(generated, background, mask)
    soft = do_overlay_mask(generated, background, mask, blur=2)
    assert set(np.unique(hard)) == {0, 255}
    assert 0 < soft[8, 7, 0] < 255 and 0 < soft[8, 8, 0] < 255
    assert soft[8, 0, 0] == 0 and soft[8, 15, 0] == 255
