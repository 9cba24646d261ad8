"""The WebUI's seed, variation-seed and seed-resize noise, drawn on the CPU."""

from __future__ import annotations

import pytest
import torch

from deforum.integrations.diffusers.noise import NoiseSpec, first_noise, fixed_seed, slerp

SHAPE = (4, 8, 12)


def webui_cpu_randn(seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    torch.manual_seed(seed)
    return torch.randn(shape)


def test_plain_seed_is_torch_randn_after_manual_seed() -> None:
    noise, _ = first_noise(NoiseSpec(SHAPE, 1234))
    assert noise.shape == (1, *SHAPE)
    assert torch.equal(noise[0], webui_cpu_randn(1234, SHAPE))


def test_the_generator_continues_after_the_first_noise() -> None:
    _, generator = first_noise(NoiseSpec(SHAPE, 5))
    torch.manual_seed(5)
    torch.randn(SHAPE)
    assert torch.equal(torch.randn(SHAPE, generator=generator), torch.randn(SHAPE))


def test_subseed_strength_zero_ignores_the_subseed() -> None:
    a, _ = first_noise(NoiseSpec(SHAPE, 1, subseed=99, subseed_strength=0.0))
    b, _ = first_noise(NoiseSpec(SHAPE, 1))
    assert torch.equal(a, b)


def test_subseed_strength_one_is_the_subseed_noise() -> None:
    noise, _ = first_noise(NoiseSpec(SHAPE, 1, subseed=99, subseed_strength=1.0))
    assert torch.allclose(noise[0], webui_cpu_randn(99, SHAPE), atol=1e-5)


def test_subseed_blends_along_the_height_axis() -> None:
    low, high = webui_cpu_randn(1, SHAPE), webui_cpu_randn(2, SHAPE)
    mixed = slerp(0.3, low, high)
    a, b = low[2, :, 5], high[2, :, 5]
    omega = torch.acos(torch.dot(a / a.norm(), b / b.norm()))
    expected = (torch.sin(0.7 * omega) * a + torch.sin(0.3 * omega) * b) / torch.sin(omega)
    assert mixed.shape == SHAPE
    assert torch.allclose(mixed[2, :, 5], expected, atol=1e-5)
    assert torch.allclose(slerp(0.0, low, high), low, atol=1e-6)


def test_slerp_of_parallel_vectors_is_linear() -> None:
    low = webui_cpu_randn(3, SHAPE)
    assert torch.allclose(slerp(0.5, low, low * 2), low * 1.5, atol=1e-5)


def test_seed_resize_pastes_the_smaller_noise_in_the_middle() -> None:
    noise, _ = first_noise(NoiseSpec((4, 8, 12), 7, resize_from=(32, 48)), factor=8)
    small = webui_cpu_randn(7, (4, 6, 4))
    full = webui_cpu_randn(7, (4, 8, 12))
    assert torch.equal(noise[0, :, 1:7, 4:8], small)
    assert torch.equal(noise[0, :, 0], full[:, 0])


def test_seed_resize_from_a_larger_size_crops_its_middle() -> None:
    noise, _ = first_noise(NoiseSpec((4, 4, 4), 7, resize_from=(64, 64)), factor=8)
    assert torch.equal(noise[0], webui_cpu_randn(7, (4, 8, 8))[:, 2:6, 2:6])


def test_seed_resize_needs_both_sides() -> None:
    a, _ = first_noise(NoiseSpec(SHAPE, 7, resize_from=(0, 48)))
    assert torch.equal(a[0], webui_cpu_randn(7, SHAPE))


@pytest.mark.parametrize("seed", [-1, None])
def test_random_seed_is_drawn_for_minus_one(seed: int | None) -> None:
    values = {fixed_seed(seed) for _ in range(5)}
    assert all(0 <= v < 2**32 for v in values) and len(values) > 1
    assert fixed_seed(42) == 42
