"""Benchmark: RIFE v4.6 x2 frame interpolation (and Real-ESRGAN upscaling) speed at 512×512.

Run: ``.venv/bin/python bench/bench_interpolation.py [--device cuda] [--half] [--size 512] [--pairs 8] [--upscale]``.
Networks are the real architectures with random weights (speed does not depend on the weight values). Rows:
``model`` = one IFNet pass per in-between frame (median over ``--pairs`` pairs after a warm-up);
``pipeline`` = the whole streaming job on PNG files (decode, infer, encode PNGs on the writer threads), reported
as output frames written per second. ``--upscale`` adds realesr-animevideov3 ×4 (and ``--all`` RealESRGAN_x4plus).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deforum.integrations.post.frame_stream import FrameWriter, files_source, write_png  # noqa: E402
from deforum.integrations.post.interpolation import drive  # noqa: E402
from deforum.integrations.post.rife import IFNet, RifeInterpolator  # noqa: E402
from deforum.integrations.post.upscale import RealEsrganUpscaler, RRDBNet, SRVGGNetCompact  # noqa: E402
from deforum.media.frames_io import test_card  # noqa: E402


def frames(size: int, count: int) -> list[np.ndarray]:
    """A test card panning 6 px per frame (real motion for the flow network)."""
    card = test_card(size + 6 * count, size)
    return [np.ascontiguousarray(card[:, 6 * i:6 * i + size]) for i in range(count)]


def sync(device: str) -> None:
    """Wait for queued GPU work so timings are honest."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_model(rife: RifeInterpolator, sequence: list[np.ndarray], device: str) -> float:
    """Median milliseconds of one in-between frame (one IFNet pass plus transfers)."""
    list(rife.between(sequence[0], sequence[1], 1))
    times = []
    for a, b in zip(sequence, sequence[1:]):
        sync(device)
        start = time.perf_counter()
        list(rife.between(a, b, 1))
        sync(device)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def time_pipeline(rife: RifeInterpolator, sequence: list[np.ndarray]) -> tuple[int, float]:
    """(frames written, seconds) for the streaming x2 job from PNG files to PNG files."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        paths = [folder / f"in_{i:09}.png" for i in range(len(sequence))]
        for path, frame in zip(paths, sequence):
            write_png(path, frame)
        start = time.perf_counter()
        with FrameWriter(folder / "out", "%09d.png") as writer:
            written = drive(files_source(paths, "bench"), rife, 2, writer)
        return written, time.perf_counter() - start


def time_upscaler(net: torch.nn.Module, image: np.ndarray, device: str, half: bool, repeats: int) -> float:
    """Median milliseconds of one ×4 upscale of `image`."""
    upscaler = RealEsrganUpscaler(net, 4, device=device, half=half)
    upscaler.upscale(image, 4)
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        upscaler.upscale(image, 4)
        sync(device)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    """Print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--half", action="store_true", help="fp16 (CUDA)")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--upscale", action="store_true", help="add realesr-animevideov3 ×4")
    parser.add_argument("--all", action="store_true", help="also RealESRGAN_x4plus (slow on CPU)")
    args = parser.parse_args()
    torch.manual_seed(0)
    dtype = "fp16" if args.half else "fp32"
    sequence = frames(args.size, args.pairs + 1)
    rife = RifeInterpolator(IFNet(), device=args.device, half=args.half)
    size = f"{args.size}×{args.size}"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, device {args.device}\n")
    print("| step | size | device | dtype | ms / frame | frames / s |")
    print("|---|---|---|---|---:|---:|")
    model_ms = time_model(rife, sequence, args.device)
    print(f"| RIFE v4.6 x2, model (one in-between) | {size} | {args.device} | {dtype} | {model_ms:.1f} | "
          f"{1000 / model_ms:.2f} |")
    written, seconds = time_pipeline(rife, sequence)
    print(f"| RIFE v4.6 x2, pipeline PNG→PNG ({written} frames out) | {size} | {args.device} | {dtype} | "
          f"{1000 * seconds / written:.1f} | {written / seconds:.2f} |")
    nets = ([("realesr-animevideov3 ×4", SRVGGNetCompact())] if args.upscale or args.all else []) + \
        ([("RealESRGAN_x4plus ×4", RRDBNet())] if args.all else [])
    for label, net in nets:
        ms = time_upscaler(net.eval(), sequence[0], args.device, args.half, 3)
        print(f"| {label} | {size} | {args.device} | {dtype} | {ms:.1f} | {1000 / ms:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
