"""The WebUI's initial noise: seed, variation seed (subseed) slerp and seed resize, drawn on the CPU.

The noise is `torch.randn` from a CPU `torch.Generator` seeded with the seed, as the WebUI does with its
"Random number generator source" option set to "CPU" (its default, "GPU", draws on the CUDA device and gives other
numbers). The same generator then keeps drawing the per-step noise of ancestral/SDE samplers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

SEED_LIMIT = 4294967294
DOT_THRESHOLD = 0.9995


@dataclass(frozen=True)
class NoiseSpec:
    """What decides a frame's first noise tensor (shape is latent C×H×W)."""

    shape: tuple[int, int, int]
    seed: int
    subseed: int = -1
    subseed_strength: float = 0.0
    resize_from: tuple[int, int] | None = None


def fixed_seed(seed: int) -> int:
    """A concrete seed: -1 (or None) draws a random one as the WebUI does."""
    if seed is None or int(seed) == -1:
        return random.randrange(SEED_LIMIT)
    return int(seed)


def cpu_generator(seed: int) -> torch.Generator:
    """A CPU generator seeded like the WebUI's CPU RNG source."""
    return torch.Generator("cpu").manual_seed(int(seed) & 0xFFFFFFFFFFFFFFFF)


def seeded_randn(seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    """The first tensor a fresh generator seeded with `seed` draws."""
    return torch.randn(shape, generator=cpu_generator(seed), dtype=torch.float32)


def slerp(val: float, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """The WebUI's variation slerp of two C×H×W noises: per (channel, column) vector along the height axis."""
    low_unit = low / torch.linalg.vector_norm(low, dim=1, keepdim=True)
    high_unit = high / torch.linalg.vector_norm(high, dim=1, keepdim=True)
    dot = (low_unit * high_unit).sum(1).clamp(-1.0, 1.0)
    omega = torch.acos(dot)
    sin_omega = torch.sin(omega)
    low_w = (torch.sin((1.0 - val) * omega) / sin_omega).unsqueeze(1)
    high_w = (torch.sin(val * omega) / sin_omega).unsqueeze(1)
    spherical = low_w * low + high_w * high
    linear = low * (1.0 - val) + high * val
    return torch.where((dot.abs() <= DOT_THRESHOLD).unsqueeze(1), spherical, linear)


def _paste_centered(target: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """Copy `source` into the middle of `target` (cropping whichever is larger), as seed resize does."""
    dx = (target.shape[2] - source.shape[2]) // 2
    dy = (target.shape[1] - source.shape[1]) // 2
    w = source.shape[2] if dx >= 0 else source.shape[2] + 2 * dx
    h = source.shape[1] if dy >= 0 else source.shape[1] + 2 * dy
    tx, ty = max(dx, 0), max(dy, 0)
    sx, sy = max(-dx, 0), max(-dy, 0)
    target[:, ty:ty + h, tx:tx + w] = source[:, sy:sy + h, sx:sx + w]
    return target


def resize_shape(shape: tuple[int, int, int], resize_from: tuple[int, int] | None,
                 factor: int) -> tuple[int, int, int]:
    """The latent shape the seed's noise is drawn at: the "resize seed from" size when both sides are set."""
    if resize_from is None or resize_from[0] <= 0 or resize_from[1] <= 0:
        return shape
    width, height = resize_from
    return shape[0], int(height) // factor, int(width) // factor


def first_noise(spec: NoiseSpec, factor: int = 8) -> tuple[torch.Tensor, torch.Generator]:
    """The frame's initial noise (1×C×H×W float32, CPU) and the generator that draws the step noise next."""
    generator = cpu_generator(spec.seed)
    noise_shape = resize_shape(spec.shape, spec.resize_from, factor)
    resized = noise_shape != spec.shape
    noise = seeded_randn(spec.seed, noise_shape) if resized else \
        torch.randn(spec.shape, generator=generator, dtype=torch.float32)
    if spec.subseed_strength != 0:
        subnoise = seeded_randn(spec.subseed, noise_shape)
        noise = slerp(float(spec.subseed_strength), noise, subnoise)
    if resized:
        full = torch.randn(spec.shape, generator=generator, dtype=torch.float32)
        noise = _paste_centered(full, noise)
    return noise.unsqueeze(0), generator
