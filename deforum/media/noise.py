"""Frame noise: seeded Gaussian noise, optionally shaped by Perlin octaves, blended into the frame.

The draws come from torch's CPU generator in the original's order and shapes (the Gaussian field
C×H'×W', then one gradient lattice per octave; H', W' are the frame size rounded down to multiples of 64),
so a seed gives the original's noise. The Perlin field is evaluated per lattice cell as a bilinear form in
the cell coordinates, which equals the original's per-pixel lerps up to float rounding.
"""

from __future__ import annotations

import functools
import math
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:
    import torch

NOISE_TYPES = ("uniform", "perlin")
NOISE_BLOCK = 64


def _fade(t: np.ndarray) -> np.ndarray:
    """Perlin's quintic fade 6t^5 - 15t^4 + 10t^3."""
    return 6 * t**5 - 15 * t**4 + 10 * t**3


def _cell_coordinates(cells: int, cell_size: int) -> np.ndarray:
    """Position inside its cell of every sample along one axis, float32 in [0, 1)."""
    return (np.arange(cells * cell_size) * (1.0 / cell_size)).astype(np.float32) % np.float32(1)


@functools.lru_cache(maxsize=32)
def _row_weights(cells: int, cell_size: int) -> torch.Tensor:
    """Per-row weights of each cell's bilinear form (cells×size×4): (1−f)u, f(u−1), 1−f, f; f = fade(u)."""
    import torch

    u = _cell_coordinates(cells, cell_size)
    fade = _fade(u)
    weights = np.stack([(1 - fade) * u, fade * (u - 1), 1 - fade, fade], axis=-1)
    return torch.from_numpy(weights.reshape(cells, cell_size, 4))


@functools.lru_cache(maxsize=32)
def _column_factors(cells: int, cell_size: int) -> np.ndarray:
    """Per-column blend factors (4×cells×size): 1−f, f, (1−f)w, f(w−1) with f = fade(w); read-only."""
    w = _cell_coordinates(cells, cell_size).reshape(cells, cell_size)
    fade = _fade(w)
    factors = np.stack([1 - fade, fade, (1 - fade) * w, fade * (w - 1)])
    factors.flags.writeable = False
    return factors


def _lattice_row_terms(cos: np.ndarray, sin: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Every lattice row's gradients blended across each pixel column ((R+1)×(C+1) lattice → R×4×W).

    Row ``r`` of the result holds, for the cell row between lattice rows r and r+1, the coefficients of the
    row weights: cos blends of rows r and r+1, then sin blends (weighted by the column offsets) of both.
    """
    cos_blend = (cos[:, :-1, None] * factors[0] + cos[:, 1:, None] * factors[1]).reshape(cos.shape[0], -1)
    sin_blend = (sin[:, :-1, None] * factors[2] + sin[:, 1:, None] * factors[3]).reshape(cos.shape[0], -1)
    return np.stack((cos_blend[:-1], cos_blend[1:], sin_blend[:-1], sin_blend[1:]), axis=1)


def _add_perlin_octave(
    field: torch.Tensor, cells: tuple[int, int], amplitude: float, generator: torch.Generator
) -> None:
    """Add ``amplitude`` × one octave of the original's ``rand_perlin_2d`` (``cells`` per axis) to ``field``.

    Cells are whole pixels; when they do not tile the field exactly the octave is computed larger and cropped.
    """
    import torch

    (rows, cols), (cells_r, cells_c) = field.shape, cells
    size_r, size_c = math.ceil(rows / cells_r), math.ceil(cols / cells_c)
    angles = 2 * math.pi * torch.rand(cells_r + 1, cells_c + 1, generator=generator)
    terms = _lattice_row_terms(torch.cos(angles).numpy(), torch.sin(angles).numpy(), _column_factors(cells_c, size_c))
    exact = (cells_r * size_r, cells_c * size_c) == (rows, cols)
    target = field if exact else torch.zeros(cells_r * size_r, cells_c * size_c)
    target.view(cells_r, size_r, -1).baddbmm_(
        _row_weights(cells_r, size_r), torch.from_numpy(terms), alpha=amplitude * math.sqrt(2)
    )
    if not exact:
        field += target[:rows, :cols]


def perlin_field(
    shape: tuple[int, int], cells: tuple[int, int], octaves: int, persistence: float, generator: torch.Generator
) -> np.ndarray:
    """Sum of Perlin octaves (cells doubling, amplitude × persistence), float32 in about [-1, 1]."""
    import torch

    if min(cells) < 1:
        raise ValueError(f"perlin_w and perlin_h must be >= 1, got {cells}")
    field = torch.zeros(shape, dtype=torch.float32)
    frequency, amplitude = 1, 1.0
    for _ in range(int(octaves)):
        octave_cells = (frequency * cells[0], frequency * cells[1])
        if octave_cells[0] >= shape[0] and octave_cells[1] >= shape[1]:
            break
        _add_perlin_octave(field, octave_cells, amplitude, generator)
        frequency, amplitude = frequency * 2, amplitude * persistence
    return field.numpy()


def noise_field(
    shape: tuple[int, int],
    channels: int,
    seed: int,
    *,
    noise_type: str = "perlin",
    octaves: int = 4,
    persistence: float = 0.5,
    cells: tuple[int, int] = (8, 8),
) -> np.ndarray:
    """The original's C×H×W float32 noise: standard normal, times (perlin + 1) / 2 for "perlin"."""
    import torch
    from torch.nn.functional import interpolate

    if noise_type not in NOISE_TYPES:
        raise ValueError(f"noise_type must be one of {NOISE_TYPES}, got {noise_type!r}")
    drawn = tuple(max(NOISE_BLOCK, size - size % NOISE_BLOCK) for size in shape)
    generator = torch.Generator(device="cpu")
    generator.manual_seed(int(seed))
    noise = torch.randn((channels, *drawn), generator=generator)
    if noise_type == "perlin":
        shaping = perlin_field(drawn, cells, octaves, persistence, generator)
        shaping += np.float32(1)
        shaping /= np.float32(2)
        noise.mul_(torch.from_numpy(shaping))
    if drawn != tuple(shape):
        noise = interpolate(noise.unsqueeze(1), size=tuple(shape)).squeeze(1)
    return noise.numpy()


def frame_noise_field(shape: tuple[int, int], channels: int, seed: int, **options: Any) -> np.ndarray:
    """The C×H×W noise of an RGB frame: a 3-channel field's planes reversed, since the original added noise to
    its BGR frames (plane 0 on blue)."""
    field = noise_field(shape, channels, seed, **options)
    return np.ascontiguousarray(field[::-1]) if channels == 3 else field


class NoiseFields:
    """Noise computed ahead on one background thread (while the model generates), each result used once.

    The noise depends only on the frame size, seed and noise settings, so the next diffused frame's noise can
    be drawn before the frame it goes into exists: the C×H×W field and, for frames without a noise mask, its
    H×W×C uint8 image. `field`/`image` return them when asked for exactly that, else compute them.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._ahead: tuple[tuple[Any, ...], Future[tuple[np.ndarray, np.ndarray]]] | None = None

    @staticmethod
    def _key(shape: tuple[int, int], channels: int, seed: int, options: dict[str, Any]) -> tuple[Any, ...]:
        """What the noise depends on."""
        return tuple(shape), int(channels), int(seed), tuple(sorted(options.items()))

    def prefetch(self, shape: tuple[int, int], channels: int, seed: int, **options: Any) -> None:
        """Start computing the noise of a coming frame (replacing any computed ahead and not used)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="deforum-noise")

        def compute() -> tuple[np.ndarray, np.ndarray]:
            field = frame_noise_field(shape, channels, seed, **options)
            return field, _noise_to_uint8(field.copy())

        self._ahead = (self._key(shape, channels, seed, options), self._pool.submit(compute))

    def _take(self, key: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray] | None:
        """The noise computed ahead when it is for `key` (it is dropped either way)."""
        ahead, self._ahead = self._ahead, None
        return ahead[1].result() if ahead is not None and ahead[0] == key else None

    def field(self, shape: tuple[int, int], channels: int, seed: int, **options: Any) -> np.ndarray:
        """The C×H×W float32 field."""
        ahead = self._take(self._key(shape, channels, seed, options))
        return ahead[0] if ahead is not None else frame_noise_field(shape, channels, seed, **options)

    def image(self, shape: tuple[int, int], channels: int, seed: int, **options: Any) -> np.ndarray:
        """The H×W×C uint8 noise image (no mask)."""
        ahead = self._take(self._key(shape, channels, seed, options))
        return ahead[1] if ahead is not None else _noise_to_uint8(frame_noise_field(shape, channels, seed, **options))

    def close(self) -> None:
        """Stop the background thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._ahead = None


def _noise_to_uint8(noise: np.ndarray) -> np.ndarray:
    """C×H×W float32 noise around 0 → H×W×C uint8 around 127 (×0.5 + 0.5, clipped, ×255, truncated).

    Works in place: ``noise`` is overwritten.
    """
    noise *= np.float32(0.5)
    noise += np.float32(0.5)
    np.clip(noise, 0, 1, out=noise)
    noise *= np.float32(255)
    return cv2.merge([plane.astype(np.uint8) for plane in noise])


def _binary_mask(mask: np.ndarray) -> np.ndarray:
    """H×W noise mask → 0/1 float32 (8-bit masks split at 128, like the original's rounding of mask/255)."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"noise mask must be H×W, got shape {mask.shape}")
    if mask.dtype == np.bool_:
        return mask.astype(np.float32)
    return np.round(mask.astype(np.float32) / np.float32(255))


def add_noise(
    image: np.ndarray,
    amount: float,
    seed: int,
    *,
    noise_type: str = "perlin",
    perlin_octaves: int = 4,
    perlin_persistence: float = 0.5,
    perlin_w: int = 8,
    perlin_h: int = 8,
    mask: np.ndarray | None = None,
    fields: NoiseFields | None = None,
) -> np.ndarray:
    """Blend seeded noise into a uint8 H×W×C (RGB) frame: ``image·(1−amount) + noise·amount``.

    ``perlin_w`` sets the lattice cells down the frame's height and ``perlin_h`` across its width (the
    original's order). Where ``mask`` is 0 the noise is zeroed, which blends mid-grey (127) in. The original
    held the frame in OpenCV's BGR order here, so noise plane 0 lands on blue: a 3-channel frame gets the
    planes in reverse.
    """
    if amount == 0:
        return image.copy()
    height, width, channels = image.shape
    options = {"noise_type": noise_type, "octaves": perlin_octaves, "persistence": perlin_persistence,
               "cells": (int(perlin_w), int(perlin_h))}
    if mask is None:
        noise_image = (fields or NoiseFields()).image((height, width), channels, seed, **options)
    else:
        noise = (fields or NoiseFields()).field((height, width), channels, seed, **options)
        noise *= _binary_mask(mask)
        noise_image = _noise_to_uint8(noise)
    return cv2.addWeighted(image, 1 - amount, noise_image, amount, 0)
