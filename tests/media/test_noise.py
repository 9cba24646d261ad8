"""Frame noise: seeded like the original (same torch draws), Perlin shaping, masks, odd sizes."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from deforum.media.noise import add_noise, noise_field


def _reference_perlin(shape: tuple[int, int], res: tuple[int, int], gen: torch.Generator) -> torch.Tensor:
    """The original's per-pixel Perlin octave: repeated lattice gradients, dot products, two lerps."""
    delta, d = (res[0] / shape[0], res[1] / shape[1]), (shape[0] // res[0], shape[1] // res[1])
    gy, gx = torch.meshgrid(torch.arange(0, res[0], delta[0]), torch.arange(0, res[1], delta[1]), indexing="ij")
    grid = (torch.stack((gy, gx), dim=-1) % 1)[: shape[0], : shape[1]]
    angles = 2 * math.pi * torch.rand(res[0] + 1, res[1] + 1, generator=gen)
    grads = torch.stack((torch.cos(angles), torch.sin(angles)), dim=-1)

    def corner(rows: slice, cols: slice, shift: tuple[int, int]) -> torch.Tensor:
        g = grads[rows, cols].repeat_interleave(d[0], 0).repeat_interleave(d[1], 1)
        return (grid[..., 0] + shift[0]) * g[..., 0] + (grid[..., 1] + shift[1]) * g[..., 1]

    first, rest = slice(0, -1), slice(1, None)
    n00, n10 = corner(first, first, (0, 0)), corner(rest, first, (-1, 0))
    n01, n11 = corner(first, rest, (0, -1)), corner(rest, rest, (-1, -1))
    t = 6 * grid**5 - 15 * grid**4 + 10 * grid**3
    return math.sqrt(2) * torch.lerp(torch.lerp(n00, n10, t[..., 0]), torch.lerp(n01, n11, t[..., 0]), t[..., 1])


def _reference_noise(image: np.ndarray, amount: float, seed: int, noise_type: str, cells: tuple[int, int],
                     octaves: int, persistence: float) -> np.ndarray:
    """The original's add_noise on the RGB frame held in BGR order, as its render loop held it."""
    bgr = np.ascontiguousarray(image[..., ::-1])
    gen = torch.Generator()
    gen.manual_seed(seed)
    rows, cols = (s - s % 64 for s in image.shape[:2])
    noise = torch.randn((image.shape[2], rows, cols), generator=gen)
    if noise_type == "perlin":
        perlin, frequency, amplitude = torch.zeros((rows, cols)), 1, 1.0
        for _ in range(octaves):
            perlin += amplitude * _reference_perlin((rows, cols), (frequency * cells[0], frequency * cells[1]), gen)
            frequency, amplitude = frequency * 2, amplitude * persistence
        noise = noise * ((perlin + torch.ones((rows, cols))) / 2)
        noise = F.interpolate(noise.unsqueeze(1), size=image.shape[:2]).squeeze(1)
    levels = ((noise.permute(1, 2, 0).numpy() * 0.5) + 0.5).clip(0, 1) * 255
    return cv2.addWeighted(bgr, 1 - amount, levels.astype(np.uint8), amount, 0)[..., ::-1]


def _image(shape: tuple[int, int, int] = (128, 192, 3)) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize("shape, cells, octaves, persistence", [
    ((128, 192, 3), (8, 8), 4, 0.5),
    ((128, 192, 3), (2, 3), 5, 0.9),
    ((150, 200, 3), (4, 2), 3, 0.7),
])
def test_perlin_noise_matches_the_originals_draws(shape, cells, octaves, persistence):
    image = _image(shape)
    ours = add_noise(image, 0.6, 77, perlin_w=cells[0], perlin_h=cells[1], perlin_octaves=octaves,
                     perlin_persistence=persistence)
    reference = _reference_noise(image, 0.6, 77, "perlin", cells, octaves, persistence)
    difference = np.abs(ours.astype(int) - reference)
    assert difference.max() <= 1 and (difference > 0).mean() < 1e-3  # float rounding only


def test_uniform_noise_is_exactly_the_originals():
    image = _image()
    assert np.array_equal(add_noise(image, 0.3, 5, noise_type="uniform"),
                          _reference_noise(image, 0.3, 5, "uniform", (8, 8), 4, 0.5))


def test_noise_plane_zero_lands_on_blue_like_the_originals_bgr_frame():
    grey = np.full((64, 64, 3), 127, np.uint8)
    field = noise_field((64, 64), 3, 11, noise_type="uniform")
    out = add_noise(grey, 1.0, 11, noise_type="uniform")
    expected_blue = (np.clip(field[0] * 0.5 + 0.5, 0, 1) * 255).astype(np.uint8)
    assert np.array_equal(out[..., 2], expected_blue)
    assert not np.array_equal(out[..., 0], expected_blue)


def test_same_seed_same_noise_other_seed_different():
    image = _image()
    first, again, other = (add_noise(image, 0.5, seed) for seed in (1, 1, 2))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_amount_zero_is_identity():
    image = _image()
    assert np.array_equal(add_noise(image, 0.0, 3), image)


def test_masked_out_pixels_blend_mid_grey():
    image = _image((64, 64, 3))
    mask = np.zeros((64, 64), np.uint8)
    mask[:, 32:] = 200  # ≥ 128 counts as on
    out = add_noise(image, 1.0, 9, mask=mask)
    assert (out[:, :32] == 127).all()
    assert np.array_equal(out[:, 32:], add_noise(image, 1.0, 9)[:, 32:])


@pytest.mark.parametrize("noise_type", ["perlin", "uniform"])
def test_sizes_that_are_not_multiples_of_64_work(noise_type):
    out = add_noise(_image((100, 70, 3)), 0.5, 4, noise_type=noise_type)
    assert out.shape == (100, 70, 3) and out.dtype == np.uint8


def test_lattices_that_do_not_tile_the_frame_work():
    image = _image((128, 128, 3))
    out = add_noise(image, 0.5, 3, perlin_w=7, perlin_h=5, perlin_octaves=6)  # the original crashed here
    assert out.shape == image.shape and not np.array_equal(out, add_noise(image, 0.5, 3, noise_type="uniform"))


def test_octaves_finer_than_pixels_stop_contributing():
    field = noise_field((64, 64), 1, 8, octaves=16)
    assert np.array_equal(field, noise_field((64, 64), 1, 8, octaves=3))  # 8·2³ = 64 cells: all later ones are 0


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="noise_type"):
        add_noise(_image(), 0.5, 1, noise_type="pink")
    with pytest.raises(ValueError, match="perlin_w"):
        add_noise(_image(), 0.5, 1, perlin_w=0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(8, 140), cols=st.integers(8, 140),
       cells=st.tuples(st.integers(1, 9), st.integers(1, 9)), octaves=st.integers(1, 6),
       persistence=st.floats(0.0, 1.0), amount=st.floats(0.0, 1.0), noise_type=st.sampled_from(["perlin", "uniform"]))
def test_noise_is_finite_and_keeps_the_frame_shape_for_any_parameters(seed, rows, cols, cells, octaves, persistence,
                                                                      amount, noise_type):
    image = _image((rows, cols, 3))
    out = add_noise(image, amount, seed, noise_type=noise_type, perlin_w=cells[0], perlin_h=cells[1],
                    perlin_octaves=octaves, perlin_persistence=persistence)
    assert out.shape == image.shape and out.dtype == np.uint8
    field = noise_field((rows, cols), 3, seed, noise_type=noise_type, octaves=octaves, persistence=persistence,
                        cells=cells)
    assert field.shape == (3, rows, cols) and np.isfinite(field).all()


def test_a_field_computed_ahead_gives_the_same_noised_frame_and_is_used_once():
    from deforum.media.noise import NoiseFields, add_noise

    image = np.random.default_rng(3).integers(0, 256, (70, 130, 3), dtype=np.uint8)
    fields = NoiseFields()
    fields.prefetch((70, 130), 3, 99, noise_type="perlin", octaves=4, persistence=0.5, cells=(8, 8))
    ahead = fields._ahead
    noised = add_noise(image, 0.2, 99, fields=fields)
    assert ahead is not None and ahead[1].done() and fields._ahead is None
    np.testing.assert_array_equal(noised, add_noise(image, 0.2, 99))
    fields.prefetch((70, 130), 3, 98, noise_type="perlin", octaves=4, persistence=0.5, cells=(8, 8))
    np.testing.assert_array_equal(add_noise(image, 0.2, 99, fields=fields), add_noise(image, 0.2, 99))
    fields.close()
