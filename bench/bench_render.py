"""Render loop speed: motion-preview frames per second, the loop's overhead on top of a 100 ms/frame model, the
`make demo` render against an earlier checkout, and RSS over a long render; every time beside `cv2.imwrite` of one
of the render's own frames, measured in the same run.

Run: ``.venv/bin/python bench/bench_render.py [--frames 200] [--compare-tree DIR] [--skip-long] [--model CKPT]``.
The frame loop runs on one thread (torch and OpenCV set to 1); the background writer and ffmpeg use the other cores.
``--compare-tree`` times `make demo`'s command with the Deforum package of another checkout (e.g. ``git worktree
add /tmp/deforum-before <commit>``) and with this one, alternately. ``--model`` measures the overhead on a real
checkpoint (a 4-step model such as SD-Turbo on a GPU) instead of the 100 ms stub.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deforum.config.settings_io import load  # noqa: E402
from deforum.core.engine import RenderServices  # noqa: E402
from deforum.core.preview import PreviewModelService, mock_generation  # noqa: E402
from deforum.core.run import run_render  # noqa: E402
from deforum.media.frames_io import read_image  # noqa: E402
from deforum.models.generation import GeneratedImage, GenerationRequest  # noqa: E402

TIMESTRING = "20000101000000"
STUB_MODEL_S = 0.1
TARGET_FPS = {"2D": 20.0, "3D": 15.0}
TARGET_OVERHEAD = {512: 0.10, 1024: 0.20}


class SleepingModel:
    """A stand-in for a 4-step GPU model: sleeps 100 ms (the GIL is free meanwhile), returns the preview's blend."""

    def generate(self, request: GenerationRequest, cancel: object = None) -> GeneratedImage:
        """Wait as long as a fast model would take, then return a frame of the requested size."""
        time.sleep(STUB_MODEL_S)
        if request.init_image is None:
            return PreviewModelService().generate(request)
        return GeneratedImage(mock_generation(request.init_image, request.denoising_strength), request.seed, "stub")


class TimedModel:
    """Wraps a model service and adds up the time spent inside it."""

    def __init__(self, model: Any) -> None:
        self.model, self.seconds = model, 0.0

    def generate(self, request: GenerationRequest, cancel: object = None) -> GeneratedImage:
        """Generate, timing the call."""
        start = time.perf_counter()
        try:
            return self.model.generate(request, cancel)
        finally:
            self.seconds += time.perf_counter() - start


def bench_settings(mode: str, size: int, frames: int, *, video: bool, name: str):
    """default_settings.txt as a cadence-1 render of `frames` frames at size×size."""
    return load(ROOT / "default_settings.txt").replace(
        animation_mode=mode, W=size, H=size, max_frames=frames, seed=1, skip_video_creation=not video,
        diffusion_cadence=1, batch_name=name)


def render_seconds(settings, model, folder: Path) -> tuple[float, float, Path]:
    """Wall time of one run_render (frames written, video ready), the CPU time of the loop's own thread (what
    other people's jobs on a shared machine do not inflate much), and the output folder."""
    start, cpu = time.perf_counter(), time.thread_time()
    result = run_render(settings, RenderServices(model=model), folder, timestring=TIMESTRING)
    return time.perf_counter() - start, time.thread_time() - cpu, result.outdir


def imwrite_ms(folder: Path, image: np.ndarray, repeats: int = 15) -> float:
    """Median time of `cv2.imwrite` (default options) of one frame: the unit every row is compared with."""
    import cv2

    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    times = []
    for index in range(repeats):
        start = time.perf_counter()
        cv2.imwrite(str(folder / f"probe_{index}.png"), bgr)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def preview_rows(folder: Path, frames: int) -> tuple[list[dict], float]:
    """2D/3D previews at 512×512 with and without the video, and the imwrite time of their last frame."""
    rows = []
    for mode in ("2D", "3D"):
        for video in (False, True):
            name = f"{mode}_{'video' if video else 'frames'}"
            seconds, cpu, _ = render_seconds(bench_settings(mode, 512, frames, video=video, name=name),
                                             PreviewModelService(), folder)
            rows.append({"case": f"preview {mode}, 512×512{' + video' if video else ''}", "mode": mode,
                         "ms": seconds * 1000 / frames, "cpu_ms": cpu * 1000 / frames})
    last = read_image(folder / "3D_frames" / f"{TIMESTRING}_{frames - 1:09}.png")
    return rows, imwrite_ms(folder, last)


def overhead_rows(folder: Path, frames: int, model_path: str | None = None, steps: int = 4) -> list[dict]:
    """The loop's cost on top of the model (a 100 ms/frame stub, or a real checkpoint with `steps` steps at
    CFG 1 on the best device), 2D with the video, at 512 and 1024: wall time per frame over time inside the model."""
    rows = []
    for size in (512, 1024):
        settings = bench_settings("2D", size, frames, video=True, name=f"model{size}")
        if model_path is not None:
            from deforum.integrations.diffusers_service import load_model_service

            settings = settings.replace(steps=steps, cfg_scale_schedule="0: (1)", strength_schedule="0: (0.5)")
            model = TimedModel(load_model_service(model_path))
        else:
            model = TimedModel(SleepingModel())
        seconds, cpu, outdir = render_seconds(settings, model, folder)
        frame = read_image(outdir / f"{TIMESTRING}_{frames - 1:09}.png")
        rows.append({"size": size, "ms": seconds * 1000 / frames, "model_ms": model.seconds * 1000 / frames,
                     "overhead": seconds / model.seconds - 1.0, "cpu_overhead": cpu / model.seconds,
                     "imwrite": imwrite_ms(folder, frame)})
    return rows


def demo_seconds(tree: Path, outdir: Path) -> float:
    """Wall time of `make demo`'s command with the deforum package of `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "deforum", "render", str(ROOT / "default_settings.txt"), "--preview",
                    "--outdir", str(outdir)], cwd=tree, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def current_rss_mb() -> float:
    """Resident memory of this process now (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def long_render(folder: Path, frames: int = 5000, size: int = 256) -> dict[str, float]:
    """RSS at frame 200 and at the end, peak growth after 200, and ms/frame early vs late, of a long preview."""
    marks: dict[str, float] = {"peak_after_200": 0.0}
    stamps: list[float] = []

    def progress(done: int, _total: int) -> None:
        stamps.append(time.perf_counter())
        if done >= 200 and done % 50 == 0 or done == frames:
            rss = current_rss_mb()
            marks.setdefault("at_200", rss)
            marks["peak_after_200"] = max(marks["peak_after_200"], rss)
            marks["at_end"] = rss

    settings = load(ROOT / "default_settings.txt").replace(
        animation_mode="2D", W=size, H=size, max_frames=frames, seed=1, skip_video_creation=True,
        diffusion_cadence=2, batch_name="long")
    run_render(settings, RenderServices(model=PreviewModelService()), folder, timestring="20000101000001",
               progress=progress)
    steps = np.diff(np.array(stamps)) * 1000
    marks["early_ms"] = float(np.median(steps[200:700]))
    marks["late_ms"] = float(np.median(steps[-500:]))
    return marks


def print_previews(rows: list[dict], imwrite: float, frames: int) -> None:
    """The preview table."""
    print(f"Motion preview, {frames} frames, cadence 1, frame loop on one thread; `cv2.imwrite` of one of its "
          f"512×512 frames: {imwrite:.1f} ms (load average {os.getloadavg()[0]:.1f} at the end)\n")
    print("| case | ms/frame | frames/s | target frames/s | ratio to one cv2.imwrite | loop thread CPU ms/frame |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        fps, target = 1000 / row["ms"], TARGET_FPS[row["mode"]]
        verdict = "met" if fps >= target else "not met"
        ratio = row["ms"] / imwrite
        print(f"| {row['case']} | {row['ms']:.1f} | {fps:.1f} | ≥ {target:.0f} ({verdict}) | {ratio:.2f} | "
              f"{row['cpu_ms']:.1f} |")


def print_overheads(rows: list[dict], frames: int, model: str) -> None:
    """The model-overhead table."""
    print(f"\nLoop overhead on {model} (2D, cadence 1, {frames} frames, video encoded during the render; overhead = "
          "wall time / time inside the model − 1):\n")
    print("| size | ms/frame | model ms/frame | overhead (wall) | target | loop thread CPU / model time | "
          "one cv2.imwrite ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        target = TARGET_OVERHEAD[row["size"]]
        verdict = "met" if row["overhead"] <= target else "not met"
        print(f"| {row['size']}×{row['size']} | {row['ms']:.1f} | {row['model_ms']:.1f} | "
              f"{row['overhead'] * 100:.1f} % | ≤ {target * 100:.0f} % ({verdict}) | "
              f"{row['cpu_overhead'] * 100:.1f} % | {row['imwrite']:.1f} |")


def main() -> None:
    """Run the benches and print markdown."""
    import cv2
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="frames per preview render (default 200)")
    parser.add_argument("--stub-frames", type=int, default=40, help="frames per stub-model render (default 40)")
    parser.add_argument("--compare-tree", type=Path, default=os.environ.get("DEFORUM_COMPARE_TREE"),
                        help="another checkout whose `make demo` render to time (default $DEFORUM_COMPARE_TREE)")
    parser.add_argument("--skip-long", action="store_true", help="skip the 5,000-frame RSS render")
    parser.add_argument("--model", help="a local checkpoint (e.g. SD-Turbo) for the overhead rows instead of the stub")
    parser.add_argument("--steps", type=int, default=4, help="sampling steps with --model (default 4)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        previews, imwrite = preview_rows(folder, args.frames)
        print_previews(previews, imwrite, args.frames)
        label = f"{args.model} ({args.steps} steps)" if args.model else "a stub model that sleeps 100 ms per frame"
        print_overheads(overhead_rows(folder, args.stub_frames, args.model, args.steps), args.stub_frames, label)
        if args.compare_tree:
            times = [(demo_seconds(args.compare_tree, folder / f"before{i}"), demo_seconds(ROOT, folder / f"ours{i}"))
                     for i in range(2)]
            before, ours = (min(column) for column in zip(*times))
            print(f"\n`make demo` render (120 frames 3D 512×512 + video, whole command, fastest of 2 alternating "
                  f"runs): {args.compare_tree} {before:.1f} s, this tree {ours:.1f} s: {before / ours:.2f}× faster "
                  f"(target ≥ 3×: {'met' if before / ours >= 3 else 'not met'})")
        if not args.skip_long:
            long = long_render(folder)
            print(f"\nLong render, 5,000-frame 2D preview at 256×256 (cadence 2): RSS {long['at_200']:.0f} MB at "
                  f"frame 200, {long['at_end']:.0f} MB at frame 5,000, peak growth after frame 200 "
                  f"{long['peak_after_200'] - long['at_200']:+.0f} MB (target < 50); median ms/frame "
                  f"{long['early_ms']:.1f} (frames 200–700) vs {long['late_ms']:.1f} (last 500)")


if __name__ == "__main__":
    main()
