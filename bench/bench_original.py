"""Benchmark: our per-frame chain against the original extension's own functions, and against one cv2.imwrite.

Run: ``bench/fetch_original.sh [DIR]`` once (the original at its pinned commit plus einops/scikit-image in
DIR/.bench-deps; nothing enters this repository), then ``.venv/bin/python bench/bench_original.py --original DIR``
(or set $DEFORUM_ORIGINAL; $DEFORUM_ORIGINAL_PYTHON runs it with another interpreter, e.g. the WebUI's venv with
the scikit-image 0.21 that A1111 v1.10 pins). Without a checkout it says so and exits 0. One CPU thread; the original's
`anim_frame_warp`, `maintain_colors`, contrast cast, `unsharp_mask` and `add_noise` run as its render loop called
them, with the WebUI's `modules.shared` and basicsr's download helper replaced by empty stand-ins (those functions
only read the debug flag).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import io
import os
import subprocess
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import torch

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from bench_ops import (  # noqa: E402
    AMOUNT,
    CONTRAST,
    KERNEL,
    MOTION_2D,
    MOTION_3D,
    NOISE,
    SEED,
    SIGMA,
    THRESHOLD,
    ours_chain,
    paired_times_ms,
    test_inputs,
)

from deforum.animation.motion import FrameMotion  # noqa: E402
from deforum.media.color import prepare_reference  # noqa: E402

ORIGINAL_ENV = "DEFORUM_ORIGINAL"
PYTHON_ENV = "DEFORUM_ORIGINAL_PYTHON"  # e.g. the WebUI's venv python: scikit-image 0.21 as the original ran it
SIZES = ((512, 512), (1024, 576))


def load_original(folder: Path) -> SimpleNamespace:
    """The original's helper modules, imported from a checkout with stand-ins for the WebUI's modules.shared
    and basicsr's download helper."""
    shared = types.ModuleType("modules.shared")
    shared.opts = SimpleNamespace(data={})
    shared.state = SimpleNamespace(interrupted=False, skipped=False)
    modules = types.ModuleType("modules")
    modules.shared = shared
    sys.modules.setdefault("modules", modules)
    sys.modules.setdefault("modules.shared", shared)
    for name in ("basicsr", "basicsr.utils", "basicsr.utils.download_util"):  # imported for downloads only
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["basicsr.utils.download_util"].load_file_from_url = None
    helpers = folder / "scripts" / "deforum_helpers"
    sys.path[:0] = [str(folder / "scripts"), str(helpers / "src")]
    sys.path.append(str(folder / ".bench-deps"))
    names = ("animation", "colors", "image_sharpening", "noise")
    with contextlib.redirect_stdout(io.StringIO()):  # its import-time notes ("Try to fallback to basicsr ...")
        return SimpleNamespace(**{name: importlib.import_module(f"deforum_helpers.{name}") for name in names})


def original_keys(motion: FrameMotion) -> SimpleNamespace:
    """The original's `keys` object for frame 0: one `<name>_series` per schedule."""
    values = {"angle": motion.angle, "zoom": motion.zoom, "translation_x": motion.translation_x,
              "translation_y": motion.translation_y, "translation_z": motion.translation_z,
              "rotation_3d_x": motion.rotation_3d_x, "rotation_3d_y": motion.rotation_3d_y,
              "rotation_3d_z": motion.rotation_3d_z, "transform_center_x": motion.transform_center_x,
              "transform_center_y": motion.transform_center_y, "aspect_ratio": motion.aspect_ratio,
              "near": motion.near, "far": motion.far, "fov": motion.fov}
    return SimpleNamespace(**{f"{name}_series": [value] for name, value in values.items()})


def original_chain(original: SimpleNamespace, image: np.ndarray, reference: np.ndarray, depth: np.ndarray,
                   mode: str) -> np.ndarray:
    """The original's render loop steps for one frame (on BGR arrays, as its loop held them; RGB back out): warp,
    colour match LAB, contrast, anti-blur, noise."""
    image, reference = np.ascontiguousarray(image[..., ::-1]), np.ascontiguousarray(reference[..., ::-1])
    height, width = image.shape[:2]
    args = SimpleNamespace(W=width, H=height, seed=SEED)
    anim_args = SimpleNamespace(animation_mode=mode, use_depth_warping=True, enable_perspective_flip=False,
                                border="replicate", depth_algorithm="Midas-3-Hybrid", midas_weight=0.2,
                                aspect_ratio_use_old_formula=False, sampling_mode="bicubic", padding_mode="border")
    keys = original_keys(MOTION_2D if mode == "2D" else MOTION_3D)
    warped, _ = original.animation.anim_frame_warp(image, args, anim_args, keys, 0, depth=torch.from_numpy(depth),
                                                   device=torch.device("cpu"))
    matched = original.colors.maintain_colors(warped, reference, "LAB")
    contrasted = (matched * CONTRAST).round().astype(np.uint8)
    sharpened = original.image_sharpening.unsharp_mask(contrasted, (KERNEL, KERNEL), SIGMA, AMOUNT, THRESHOLD)
    return original.noise.add_noise(sharpened, NOISE, SEED, "perlin", (8, 8, 4, 0.5))[..., ::-1]


def imwrite_ms(image: np.ndarray, folder: Path, repeats: int = 11) -> float:
    """Median cv2.imwrite (default options) of one frame."""
    import statistics
    import time

    times = []
    for index in range(repeats):
        start = time.perf_counter()
        cv2.imwrite(str(folder / f"probe_{index}.png"), image)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    """Print the table, or a note when no checkout of the original is given."""
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--original", type=Path, default=os.environ.get(ORIGINAL_ENV))
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    python = os.environ.get(PYTHON_ENV)
    if python and Path(python).resolve() != Path(sys.executable).resolve():
        return subprocess.run([python, __file__, *sys.argv[1:]], check=False).returncode
    if args.original is None or not (args.original / "scripts" / "deforum_helpers").is_dir():
        print(f"Skipped: no checkout of the original (run bench/fetch_original.sh, then pass --original DIR or "
              f"set ${ORIGINAL_ENV}).")
        return 0
    original = load_original(args.original)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    print(f"The original's own functions ({args.original}), one thread, {args.repeats} alternating repeats; "
          f"load average at start {os.getloadavg()[0]:.2f}.\n")
    print("| chain | size | ours ms | original ms | speed-up | one cv2.imwrite ms | ours / imwrite | "
          "original / imwrite | max level diff |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for width, height in SIZES:
            image, reference, depth = test_inputs(width, height)
            prepared = prepare_reference(reference, "LAB")
            for mode in ("2D", "3D"):
                ours = functools.partial(ours_chain, image, prepared, depth, mode)
                theirs = functools.partial(original_chain, original, image, reference, depth, mode)
                diff = int(np.abs(ours().astype(np.int16) - theirs().astype(np.int16)).max())
                ours_ms, theirs_ms, _ = paired_times_ms(ours, theirs, args.repeats)
                write_ms = imwrite_ms(ours(), Path(tmp))
                print(f"| {mode} | {width}×{height} | {ours_ms:.1f} | {theirs_ms:.1f} | {theirs_ms / ours_ms:.1f}× | "
                      f"{write_ms:.1f} | {ours_ms / write_ms:.2f} | {theirs_ms / write_ms:.2f} | {diff} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
