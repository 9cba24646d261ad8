"""Benchmark: depth estimation milliseconds per 518×518 frame (tiny models, real architectures, real weights).

Run: ``.venv/bin/python bench/bench_depth.py [--all] [--device cuda] [--batch 4] [--models-dir DIR]``.
Rows: the tiny random test models; Depth-Anything-V2-Small built from its real config with random weights
(speed does not depend on the weight values; ``--all`` adds Base, Large and MiDaS DPT-Large); and every model
whose real weights are found locally (models folder, $DEFORUM_MODELS_DIR, ./models, the HF cache). Median of
``--repeats`` timed calls after one warm-up, the whole predict (resize, forward, upsample) included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deforum.depth.algorithms import SUPPORTED_MODELS, spec_for  # noqa: E402
from deforum.depth.convert_midas import DPT_LARGE_CONFIG  # noqa: E402
from deforum.depth.dav2_net import DepthAnythingV2  # noqa: E402
from deforum.depth.dav2_weights import official_config  # noqa: E402
from deforum.depth.locate import DepthModelMissing, WeightsSource, find_weights  # noqa: E402
from deforum.depth.network import DepthNetwork, load_model  # noqa: E402
from deforum.depth.testing import tiny_dav2, tiny_model  # noqa: E402

SIZE = 518


def depth_anything_architecture(size: str) -> torch.nn.Module:
    """Our Depth-Anything-V2 of the given size (its published dimensions), random weights."""
    return DepthAnythingV2(official_config(size)).eval()


def dpt_large_architecture() -> torch.nn.Module:
    """MiDaS DPT-Large (the original's Midas-3-Hybrid weights' layout), random weights."""
    from transformers import DPTConfig, DPTForDepthEstimation

    return DPTForDepthEstimation(DPTConfig(**DPT_LARGE_CONFIG)).eval()


def candidates(run_all: bool, models_dir: str | None) -> list[tuple[str, str, str, Callable[[], torch.nn.Module]]]:
    """(label, algorithm, weights description, model factory) for every row to time."""
    rows = [("tiny Depth-Anything (tests)", "Depth-Anything-V2-Small", "random, ~60k",
             lambda: tiny_dav2()),
            ("tiny DPT (tests)", "Midas-3-Hybrid", "random, ~50k", lambda: tiny_model("dpt")),
            ("Depth-Anything-V2-Small", "Depth-Anything-V2-Small", "random, real size",
             lambda: depth_anything_architecture("Small"))]
    if run_all:
        rows += [(f"Depth-Anything-V2-{size}", f"Depth-Anything-V2-{size}", "random, real size",
                  lambda size=size: depth_anything_architecture(size)) for size in ("Base", "Large")]
        rows.append(("MiDaS DPT-Large", "Midas-3-Hybrid", "random, real size", dpt_large_architecture))
    for name, spec in SUPPORTED_MODELS.items():
        try:
            source = find_weights(spec, models_dir)
        except DepthModelMissing:
            continue
        rows.append((name, name, f"real: {source.path.name}",
                     lambda spec=spec, source=source: load_model(spec, WeightsSource(source.path, source.kind))))
    return rows


def time_row(factory: Callable[[], torch.nn.Module], algorithm: str, device: str, half: bool | None,
             batch: int, repeats: int) -> tuple[float, str, float]:
    """(load seconds, dtype, median ms per frame) for one model."""
    started = time.perf_counter()
    spec = spec_for(algorithm)
    use_half = device.startswith("cuda") if half is None else half
    network = DepthNetwork(factory(), spec, device, use_half, batch_size=batch)
    load_s = time.perf_counter() - started
    frames = [np.random.default_rng(i).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for i in range(batch)]
    network.infer(frames)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        network.infer(frames)
        times.append((time.perf_counter() - start) * 1000 / batch)
    dtype = str(network.dtype).replace("torch.", "")
    network.close()
    return load_s, dtype, statistics.median(times)


def main() -> None:
    """Time every row and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also Base, Large and DPT-Large architectures")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--half", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--batch", type=int, default=1, help="frames per forward pass")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--models-dir", default=os.environ.get("DEFORUM_MODELS_DIR"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import DepthAnythingForDepthEstimation, DPTForDepthEstimation  # noqa: F401 - warm imports
    print(f"{SIZE}×{SIZE} frames on {args.device}, {args.threads} CPU thread(s), batch {args.batch}, median of "
          f"{args.repeats}; load average at start {os.getloadavg()[0]:.2f}; torch {torch.__version__}.\n")
    print("| model | weights | dtype | load s | ms/frame | frames/s |")
    print("|---|---|---|---:|---:|---:|")
    for label, algorithm, weights, factory in candidates(args.all, args.models_dir):
        load_s, dtype, ms = time_row(factory, algorithm, args.device, args.half, args.batch, args.repeats)
        print(f"| {label} | {weights} | {dtype} | {load_s:.1f} | {ms:.1f} | {1000 / ms:.2f} |", flush=True)


if __name__ == "__main__":
    main()
