"""Preview render speed: frames per second at 512×512 (2D and 3D, flat depth), against the time of one PNG write."""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deforum.config.settings_io import load  # noqa: E402
from deforum.core.engine import RenderServices  # noqa: E402
from deforum.core.preview import PreviewModelService  # noqa: E402
from deforum.core.run import run_render  # noqa: E402
from deforum.media.frames_io import read_image, write_png_atomic  # noqa: E402

FRAMES = 120
SIZE = 512


def png_write_ms(folder: Path, image: np.ndarray) -> float:
    """Median time to write one frame PNG atomically (a frame of the render itself, so it compresses alike)."""
    times = []
    for i in range(15):
        start = time.perf_counter()
        write_png_atomic(folder / f"probe_{i}.png", image)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def render_ms_per_frame(mode: str, folder: Path) -> float:
    """Wall time per frame of a 120-frame preview render (video skipped)."""
    settings = load(Path("default_settings.txt")).replace(
        animation_mode=mode, W=SIZE, H=SIZE, max_frames=FRAMES, seed=1, skip_video_creation=True,
        diffusion_cadence=1, batch_name=mode)
    start = time.perf_counter()
    run_render(settings, RenderServices(model=PreviewModelService()), folder, timestring="20000101000000")
    return (time.perf_counter() - start) * 1000 / FRAMES


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

    settings = load(Path("default_settings.txt")).replace(
        animation_mode="2D", W=size, H=size, max_frames=frames, seed=1, skip_video_creation=True,
        diffusion_cadence=2, batch_name="long")
    run_render(settings, RenderServices(model=PreviewModelService()), folder, timestring="20000101000001",
               progress=progress)
    steps = np.diff(np.array(stamps)) * 1000
    marks["early_ms"] = float(np.median(steps[200:700]))
    marks["late_ms"] = float(np.median(steps[-500:]))
    return marks


def main() -> None:
    """Print the table."""
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = [(mode, render_ms_per_frame(mode, folder)) for mode in ("2D", "3D")]
        png = png_write_ms(folder, read_image(folder / "3D" / f"20000101000000_{FRAMES - 1:09}.png"))
        long = long_render(folder)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Preview render, {FRAMES} frames at {SIZE}×{SIZE}, one thread; writing one of its frames as PNG: "
          f"{png:.1f} ms\n")
    print("| mode | ms/frame | frames/s | ratio to one PNG write (target < 4) |")
    print("|---|---|---|---|")
    for mode, ms in rows:
        print(f"| {mode} | {ms:.1f} | {1000 / ms:.1f} | {ms / png:.2f} |")
    print(f"\nLong render, 5,000-frame 2D preview at 256×256 (cadence 2): RSS {long['at_200']:.0f} MB at frame 200, "
          f"{long['at_end']:.0f} MB at frame 5,000, peak growth after frame 200 "
          f"{long['peak_after_200'] - long['at_200']:+.0f} MB (target < 50); median ms/frame "
          f"{long['early_ms']:.1f} (frames 200–700) vs {long['late_ms']:.1f} (last 500); "
          f"process peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
