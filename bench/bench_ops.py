"""Benchmark: per-frame motion and image operations against a baseline of the original's formulas.

Run: ``.venv/bin/python bench/bench_ops.py [--repeats N]``. One CPU thread (torch and OpenCV): median
milliseconds per frame at 512×512 and 1024×576 (and our fastest run) as a markdown table, then whether the
chain targets are met. The BASELINE functions below re-state the original extension's published formulas
the straightforward way it evaluated them (py3d-style per-call camera matrices and point transforms,
skimage-style histogram matching, float64 unsharp mask, its torch Perlin path); they exist only to be
timed and compared against.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deforum.animation.motion import FrameMotion, apply_motion  # noqa: E402
from deforum.media.color import ColorReference, match_color, prepare_reference  # noqa: E402
from deforum.media.image_ops import apply_contrast, unsharp_mask  # noqa: E402
from deforum.media.noise import add_noise  # noqa: E402

SIZES = ((512, 512), (1024, 576))
MOTION_2D = FrameMotion(angle=1.5, zoom=1.02, translation_x=3.0, translation_y=-2.0)
MOTION_3D = FrameMotion(translation_x=4.0, translation_z=2.0, rotation_3d_y=1.0, rotation_3d_z=0.5)
CONTRAST, KERNEL, SIGMA, AMOUNT, THRESHOLD, NOISE, SEED = 1.0, 5, 1.0, 0.1, 0.0, 0.065, 1234
CHAIN_TARGETS_MS = {"chain 2D": 15.0, "chain 3D": 60.0}


# ---- BASELINE: the original's formulas, evaluated the way it did -------------------------------------

def baseline_warp_2d(image: np.ndarray, m: FrameMotion) -> np.ndarray:
    """BASELINE 2D: getRotationMatrix2D, float32 translation, matmul, warpPerspective."""
    h, w = image.shape[:2]
    rot = np.vstack([cv2.getRotationMatrix2D((w * m.transform_center_x, h * m.transform_center_y), m.angle, m.zoom),
                     [0, 0, 1]])
    trans = np.vstack([np.float32([[1, 0, m.translation_x], [0, 1, m.translation_y]]), [0, 0, 1]])
    return cv2.warpPerspective(image, np.matmul(rot, trans), (w, h), borderMode=cv2.BORDER_REPLICATE)


def _baseline_axis(axis: str, angle: torch.Tensor) -> torch.Tensor:
    """BASELINE: one PyTorch3D-style axis rotation matrix."""
    c, s, one, zero = torch.cos(angle), torch.sin(angle), torch.ones(()), torch.zeros(())
    rows = {"X": (one, zero, zero, zero, c, -s, zero, s, c), "Y": (c, zero, s, zero, one, zero, -s, zero, c),
            "Z": (c, -s, zero, s, c, zero, zero, zero, one)}[axis]
    return torch.stack(rows).reshape(3, 3)


def _baseline_camera(m: FrameMotion, aspect: float, rotation: torch.Tensor, translation: torch.Tensor) -> torch.Tensor:
    """BASELINE: a FoVPerspectiveCameras full projection, row-vector 4x4 composed per call."""
    tan_half = torch.tan(torch.tensor(m.fov * math.pi / 180) / 2)
    max_y = tan_half * m.near
    max_x = max_y * aspect
    k = torch.zeros(4, 4)
    k[0, 0], k[1, 1] = 2 * m.near / (2 * max_x), 2 * m.near / (2 * max_y)
    k[3, 2], k[2, 2], k[2, 3] = 1.0, m.far / (m.far - m.near), -(m.far * m.near) / (m.far - m.near)
    rotate, translate = torch.eye(4), torch.eye(4)
    rotate[:3, :3] = rotation
    translate[3, :3] = translation
    return rotate @ translate @ k.T


def _baseline_z(depth: np.ndarray) -> torch.Tensor:
    """BASELINE: normalise, equalise (1024-bin histogram) and invert MiDaS depth."""
    d = torch.from_numpy(depth)
    d = (d - d.min()) / (d.max() - d.min())
    counts, edges = np.histogram(d.numpy(), bins=1024, range=(0, 1))
    cdf = counts.cumsum()
    n = torch.from_numpy(np.interp(d.numpy(), edges[:-1], cdf / float(cdf[-1])))
    return torch.as_tensor((n + -2) * -1, dtype=torch.float32)


def baseline_warp_3d(image: np.ndarray, depth: np.ndarray, m: FrameMotion) -> np.ndarray:
    """BASELINE 3D: py3d-style cameras, meshgrid points, transform_points, affine_grid, grid_sample."""
    h, w = image.shape[:2]
    angles = torch.tensor([math.radians(m.rotation_3d_x), math.radians(m.rotation_3d_y), math.radians(m.rotation_3d_z)])
    rotation = _baseline_axis("X", angles[0]) @ _baseline_axis("Y", angles[1]) @ _baseline_axis("Z", angles[2])
    moved_t = torch.tensor([-m.translation_x / 200, m.translation_y / 200, -m.translation_z / 200])
    y, x = torch.meshgrid(torch.linspace(-1.0, 1.0, h), torch.linspace(-1.0, 1.0, w), indexing="ij")
    points = torch.stack((x.flatten(), y.flatten(), _baseline_z(depth).flatten()), dim=1)
    points = torch.cat([points, torch.ones(points.shape[0], 1)], dim=1)

    def project(matrix: torch.Tensor) -> torch.Tensor:
        """BASELINE transform_points: homogeneous row points times the matrix, divided by w."""
        out = points @ matrix
        return out[:, :3] / out[:, 3:]

    old = project(_baseline_camera(m, m.aspect_ratio, torch.eye(3), torch.zeros(3)))[:, :2]
    new = project(_baseline_camera(m, m.aspect_ratio, rotation, moved_t))[:, :2]
    coords = F.affine_grid(torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]), [1, 1, h, w], align_corners=False)
    grid = coords - torch.reshape(new - old, (h, w, 2)).unsqueeze(0)
    tensor = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)
    out = F.grid_sample(tensor.unsqueeze(0), grid, mode="bicubic", padding_mode="border", align_corners=False)
    return out.squeeze().clamp(0, 255).permute(1, 2, 0).numpy().astype(image.dtype)


def _baseline_match_channel(source: np.ndarray, template: np.ndarray) -> np.ndarray:
    """BASELINE: skimage's uint8 cumulative-histogram match of one channel (float64 per pixel)."""
    lookup = source.reshape(-1)
    src_counts = np.bincount(lookup)
    tmpl_counts = np.bincount(template.reshape(-1))
    tmpl_values = np.nonzero(tmpl_counts)[0]
    src_q = np.cumsum(src_counts) / source.size
    tmpl_q = np.cumsum(tmpl_counts[tmpl_values]) / template.size
    return np.interp(src_q, tmpl_q, tmpl_values)[lookup].reshape(source.shape)


def baseline_match_lab(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """BASELINE colour match LAB: cvtColor, per-channel skimage-style matching, cvtColor back."""
    lab, ref = cv2.cvtColor(image, cv2.COLOR_BGR2LAB), cv2.cvtColor(reference, cv2.COLOR_BGR2LAB)
    matched = np.empty(lab.shape, dtype=lab.dtype)
    for c in range(3):
        matched[..., c] = _baseline_match_channel(lab[..., c], ref[..., c])
    return cv2.cvtColor(matched, cv2.COLOR_LAB2BGR)


def baseline_contrast(image: np.ndarray, contrast: float) -> np.ndarray:
    """BASELINE contrast: float64 multiply, round, cast."""
    return (image * contrast).round().astype(np.uint8)


def baseline_unsharp(image: np.ndarray, kernel: int, sigma: float, amount: float) -> np.ndarray:
    """BASELINE anti-blur: float64 unsharp mask with maximum/minimum clipping."""
    blurred = cv2.GaussianBlur(image, (kernel, kernel), sigma)
    sharpened = float(amount + 1) * image - float(amount) * blurred
    sharpened = np.minimum(np.maximum(sharpened, np.zeros(sharpened.shape)), 255 * np.ones(sharpened.shape))
    return sharpened.round().astype(np.uint8)


def _baseline_perlin(shape: tuple[int, int], res: tuple[int, int], gen: torch.Generator) -> torch.Tensor:
    """BASELINE: one Perlin octave with full-resolution repeated gradients and lerps."""
    delta, d = (res[0] / shape[0], res[1] / shape[1]), (shape[0] // res[0], shape[1] // res[1])
    gy, gx = torch.meshgrid(torch.arange(0, res[0], delta[0]), torch.arange(0, res[1], delta[1]), indexing="ij")
    grid = (torch.stack((gy, gx), dim=-1) % 1)[: shape[0], : shape[1]]
    angles = 2 * math.pi * torch.rand(res[0] + 1, res[1] + 1, generator=gen)
    grads = torch.stack((torch.cos(angles), torch.sin(angles)), dim=-1)

    def corner(r0: int, r1: int | None, c0: int, c1: int | None, shift: tuple[int, int]) -> torch.Tensor:
        """BASELINE: one lattice corner's gradient repeated to full size, dotted with the offset."""
        g = grads[r0:r1, c0:c1].repeat_interleave(d[0], 0).repeat_interleave(d[1], 1)[: shape[0], : shape[1]]
        return (grid[..., 0] + shift[0]) * g[..., 0] + (grid[..., 1] + shift[1]) * g[..., 1]

    n00, n10 = corner(0, -1, 0, -1, (0, 0)), corner(1, None, 0, -1, (-1, 0))
    n01, n11 = corner(0, -1, 1, None, (0, -1)), corner(1, None, 1, None, (-1, -1))
    t = 6 * grid**5 - 15 * grid**4 + 10 * grid**3
    return math.sqrt(2) * torch.lerp(torch.lerp(n00, n10, t[..., 0]), torch.lerp(n01, n11, t[..., 0]), t[..., 1])


def baseline_noise(image: np.ndarray, amount: float, seed: int) -> np.ndarray:
    """BASELINE noise: torch randn × Perlin octaves (8, 8, 4, 0.5), nearest resize, addWeighted."""
    gen = torch.Generator()
    gen.manual_seed(seed)
    ph, pw = (s - s % 64 for s in image.shape[:2])
    noise = torch.randn((image.shape[2], ph, pw), generator=gen)
    perlin, frequency, amplitude = torch.zeros((ph, pw)), 1, 1.0
    for _ in range(4):
        perlin += amplitude * _baseline_perlin((ph, pw), (frequency * 8, frequency * 8), gen)
        frequency, amplitude = frequency * 2, amplitude * 0.5
    noise = noise * ((perlin + torch.ones((ph, pw))) / 2)
    noise = F.interpolate(noise.unsqueeze(1), size=image.shape[:2]).squeeze(1)
    levels = ((noise.permute(1, 2, 0).numpy() * 0.5) + 0.5).clip(0, 1) * 255
    return cv2.addWeighted(image, 1 - amount, levels.astype(np.uint8), amount, 0)


# ---- the steps as this package runs them --------------------------------------------------------------

def ours_chain(image: np.ndarray, reference: ColorReference, depth: np.ndarray | None, mode: str) -> np.ndarray:
    """The per-frame chain: warp → colour match (LAB, prepared reference) → contrast → anti-blur → noise."""
    motion = MOTION_2D if mode == "2D" else MOTION_3D
    warped = apply_motion(image, motion, animation_mode=mode, depth=depth)
    matched = match_color(warped, reference, "LAB")
    sharpened = unsharp_mask(apply_contrast(matched, CONTRAST), KERNEL, SIGMA, AMOUNT, THRESHOLD)
    return add_noise(sharpened, NOISE, SEED)


def baseline_chain(image: np.ndarray, reference: np.ndarray, depth: np.ndarray | None, mode: str) -> np.ndarray:
    """BASELINE per-frame chain."""
    warped = baseline_warp_2d(image, MOTION_2D) if mode == "2D" else baseline_warp_3d(image, depth, MOTION_3D)
    matched = baseline_match_lab(warped, reference)
    sharpened = baseline_unsharp(baseline_contrast(matched, CONTRAST), KERNEL, SIGMA, AMOUNT)
    return baseline_noise(sharpened, NOISE, SEED)


def test_inputs(width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smooth, textured RGB frame, a colour reference, and a MiDaS-like depth map."""
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[:height, :width].astype(np.float32)
    base = np.stack([128 + 100 * np.sin(xs / 37 + c) * np.cos(ys / 23 - c) for c in range(3)], axis=-1)
    image = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    reference = np.clip(base[::-1] * 0.8 + 30, 0, 255).astype(np.uint8)
    depth = (5 + 3 * np.sin(xs / 90) + ys / height).astype(np.float32)
    return image, reference, depth


def paired_times_ms(
    ours: Callable[[], object], baseline: Callable[[], object], repeats: int
) -> tuple[float, float, float]:
    """Ours median, baseline median and ours fastest (ms), run alternately after a warm-up."""
    ours(), baseline()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for run, bucket in ((ours, times[0]), (baseline, times[1])):
            start = time.perf_counter()
            run()
            bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000, min(times[0]) * 1000


def cases(image: np.ndarray, reference: np.ndarray, depth: np.ndarray) -> list[tuple[str, Callable, Callable]]:
    """(step, ours, baseline) callables on one input."""
    prepared = prepare_reference(reference, "LAB")
    return [
        ("2D warp", lambda: apply_motion(image, MOTION_2D, animation_mode="2D"),
         lambda: baseline_warp_2d(image, MOTION_2D)),
        ("3D warp (depth)", lambda: apply_motion(image, MOTION_3D, animation_mode="3D", depth=depth),
         lambda: baseline_warp_3d(image, depth, MOTION_3D)),
        ("colour match LAB", lambda: match_color(image, reference, "LAB"),
         lambda: baseline_match_lab(image, reference)),
        ("colour match LAB, prepared reference", lambda: match_color(image, prepared, "LAB"),
         lambda: baseline_match_lab(image, reference)),
        ("contrast 0.95", lambda: apply_contrast(image, 0.95), lambda: baseline_contrast(image, 0.95)),
        ("unsharp (anti-blur)", lambda: unsharp_mask(image, KERNEL, SIGMA, AMOUNT, THRESHOLD),
         lambda: baseline_unsharp(image, KERNEL, SIGMA, AMOUNT)),
        ("noise (perlin)", lambda: add_noise(image, NOISE, SEED), lambda: baseline_noise(image, NOISE, SEED)),
        ("chain 2D", lambda: ours_chain(image, prepared, depth, "2D"),
         lambda: baseline_chain(image, reference, depth, "2D")),
        ("chain 3D", lambda: ours_chain(image, prepared, depth, "3D"),
         lambda: baseline_chain(image, reference, depth, "3D")),
    ]


def main() -> None:
    """Time every step at every size and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    print(f"One thread; {args.repeats} alternating repeats; load average at start {os.getloadavg()[0]:.2f}.\n")
    print("| step | size | ours ms | baseline ms | speed-up | ours fastest ms | max level diff vs baseline |")
    print("|---|---|---:|---:|---:|---:|---:|")
    verdicts = []
    for width, height in SIZES:
        image, reference, depth = test_inputs(width, height)
        for step, ours, baseline in cases(image, reference, depth):
            diff = int(np.abs(ours().astype(np.int16) - baseline().astype(np.int16)).max())
            ours_ms, base_ms, fastest_ms = paired_times_ms(ours, baseline, args.repeats)
            row = [step, f"{width}×{height}", f"{ours_ms:.1f}", f"{base_ms:.1f}", f"{base_ms / ours_ms:.1f}×"]
            print("| " + " | ".join([*row, f"{fastest_ms:.1f}", str(diff)]) + " |", flush=True)
            target = CHAIN_TARGETS_MS.get(step) if (width, height) == SIZES[0] else None
            if target is not None:
                verdicts.append(f"{step} at {width}×{height}: median {ours_ms:.1f} ms, target ≤ {target:g} ms: "
                                + ("met" if ours_ms <= target else "missed"))
    print("\n" + "\n".join(f"- {line}" for line in verdicts))


if __name__ == "__main__":
    main()
