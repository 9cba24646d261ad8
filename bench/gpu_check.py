"""GPU check: real checkpoints on CUDA through the standalone render, timed per frame.

Run: ``make gpu-check SD15=/path/sd15.safetensors SDXL=/path/sdxl.safetensors [WEBUI_URL=http://127.0.0.1:7860]``
or ``.venv/bin/python bench/gpu_check.py --sd15 PATH --sdxl PATH [--webui-url URL]`` (the paths default to
$DEFORUM_GPU_SD15, $DEFORUM_GPU_SDXL, $DEFORUM_GPU_WEBUI_URL). For each checkpoint it renders a 2D animation of
`--frames` frames (30; SD 1.5 at 512×512, SDXL at 1024×1024, every frame diffused) and reports the seconds per frame
and the share of each frame spent outside the denoising loop (target below 5 %). With a WebUI URL it renders the
same seed there and compares the frames: frame 0 through `/sdapi/v1/txt2img`, every frame through
`/deforum_api/batches` when the WebUI runs Deforum's API (`--deforum-api`) and its output folder is readable here.
Without CUDA it says so and exits 0; CI never runs it. `--tiny` checks the script itself on tiny random models;
`--random-weights` times full-size SD 1.5 and SDXL networks with random weights (no checkpoint needed; timings
real, pictures noise). The first frames (model load, warm-up) are left out of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gpu_check_webui import CFG_SCALE, compare_with_webui  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ENV = {"sd15": "DEFORUM_GPU_SD15", "sdxl": "DEFORUM_GPU_SDXL", "webui": "DEFORUM_GPU_WEBUI_URL"}
TARGET_OUTSIDE = 0.05
WARMUP_FRAMES = 2
RANDOM = "random:"
PROMPT = "a lighthouse on a rocky coast at sunset, oil painting, highly detailed"
NEGATIVE = "blurry, low quality"


@dataclass(frozen=True)
class Case:
    """One checkpoint to render: a label, its path, the frame size."""

    label: str
    checkpoint: str
    size: int


@dataclass
class CaseResult:
    """What one checkpoint's render measured."""

    label: str
    size: int
    frame_seconds: list[float]
    loop_seconds: list[float]
    vae_seconds: list[float]
    outdir: str
    timestring: str
    webui: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Median and p90 seconds per frame and outside-loop share, after the warm-up frames."""
        frames, loops = self.frame_seconds[WARMUP_FRAMES:], self.loop_seconds[WARMUP_FRAMES:]
        vae = self.vae_seconds[WARMUP_FRAMES:]
        shares = [(f - loop) / f for f, loop in zip(frames, loops, strict=True) if f > 0]
        rest = [(f - loop - v) / f for f, loop, v in zip(frames, loops, vae, strict=True) if f > 0]
        return {"label": self.label, "size": self.size, "frames": len(self.frame_seconds),
                "first_frame_s": self.frame_seconds[0] if self.frame_seconds else None,
                "s_per_frame": statistics.median(frames) if frames else None,
                "s_per_frame_p90": percentile(frames, 0.9),
                "outside_loop_share": statistics.median(shares) if shares else None,
                "outside_loop_share_p90": percentile(shares, 0.9),
                "vae_share": statistics.median([v / f for f, v in zip(frames, vae, strict=True) if f > 0])
                if frames else None,
                "rest_share": statistics.median(rest) if rest else None,
                "outside_target_met": bool(shares) and statistics.median(shares) < TARGET_OUTSIDE,
                "outdir": self.outdir, "timestring": self.timestring, "webui": self.webui}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (nearest rank) of values, None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (paths default to the DEFORUM_GPU_* environment variables)."""
    parser = argparse.ArgumentParser(prog="gpu_check", description=__doc__.splitlines()[0])
    parser.add_argument("--sd15", default=os.environ.get(ENV["sd15"]), help=f"SD 1.5 checkpoint (${ENV['sd15']})")
    parser.add_argument("--sdxl", default=os.environ.get(ENV["sdxl"]), help=f"SDXL checkpoint (${ENV['sdxl']})")
    parser.add_argument("--webui-url", default=os.environ.get(ENV["webui"]),
                        help=f"a running WebUI to compare frames with (${ENV['webui']})")
    parser.add_argument("--frames", type=int, default=30, help="frames per checkpoint (default 30)")
    parser.add_argument("--steps", type=int, default=20, help="sampling steps (default 20)")
    parser.add_argument("--seed", type=int, default=42, help="seed (default 42)")
    parser.add_argument("--sd15-size", type=int, default=512, help="SD 1.5 frame size (default 512)")
    parser.add_argument("--sdxl-size", type=int, default=1024, help="SDXL frame size (default 1024)")
    parser.add_argument("--device", default="cuda", help="torch device (default cuda; cpu only with --tiny)")
    parser.add_argument("--outdir", help="output root (default: a temporary folder, removed afterwards)")
    parser.add_argument("--json", dest="json_path", help="also write the results as JSON here")
    parser.add_argument("--tiny", action="store_true",
                        help="self-test: tiny random SD and SDXL models instead of real checkpoints")
    parser.add_argument("--random-weights", action="store_true",
                        help="full-size SD 1.5 and SDXL networks with random weights (real timings, no download; "
                             "no WebUI comparison)")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.steps < 1:
        parser.error("--frames and --steps must be at least 1")
    return args


def cuda_problem(device: str) -> str | None:
    """Why this machine cannot run the check on `device` (None when it can)."""
    if not device.startswith("cuda"):
        return None
    try:
        import torch
    except ImportError as err:
        return f"PyTorch is not installed ({err})."
    if not torch.cuda.is_available():
        return "CUDA is not available here (torch.cuda.is_available() is False)."
    return None


def cases_from(args: argparse.Namespace, tiny_dir: Path | None = None) -> list[Case]:
    """The checkpoints to render: the real ones given, or tiny random ones written to `tiny_dir`."""
    if args.tiny and tiny_dir is not None:
        from deforum.integrations.diffusers.testing import tiny_pipeline, write_tiny_tokenizer

        tokenizer = write_tiny_tokenizer(tiny_dir / "tokenizer")
        for name, sdxl in (("tiny-sd", False), ("tiny-sdxl", True)):
            tiny_pipeline(tokenizer, sdxl=sdxl).save_pretrained(tiny_dir / name)
        return [Case("tiny SD", str(tiny_dir / "tiny-sd"), 64), Case("tiny SDXL", str(tiny_dir / "tiny-sdxl"), 64)]
    if args.random_weights:
        return [Case("SD 1.5 (random weights)", RANDOM + "sd15", args.sd15_size),
                Case("SDXL (random weights)", RANDOM + "sdxl", args.sdxl_size)]
    cases = [Case("SD 1.5", args.sd15, args.sd15_size)] if args.sd15 else []
    cases += [Case("SDXL", args.sdxl, args.sdxl_size)] if args.sdxl else []
    if not cases:
        raise SystemExit(f"gpu_check: no checkpoint given: pass --sd15 PATH and/or --sdxl PATH (or set "
                         f"{ENV['sd15']} / {ENV['sdxl']}).")
    missing = [case.checkpoint for case in cases if not Path(case.checkpoint).exists()]
    if missing:
        raise SystemExit(f"gpu_check: checkpoint not found: {', '.join(missing)}")
    return cases


def check_settings(case: Case, args: argparse.Namespace) -> Any:
    """The animation rendered: the shipped defaults, 2D zoom, every frame diffused, Euler, fixed seed."""
    from deforum.config.settings_io import load

    return load(ROOT / "default_settings.txt").replace(
        W=case.size, H=case.size, max_frames=args.frames, diffusion_cadence=1, animation_mode="2D",
        zoom="0:(1.02)", angle="0:(0)", translation_x="0:(0)", translation_y="0:(0)", steps=args.steps,
        sampler="Euler", scheduler="Automatic", seed=args.seed, seed_behavior="iter",
        cfg_scale_schedule=f"0: ({CFG_SCALE:g})",
        prompts={"0": f"{PROMPT} --neg {NEGATIVE}"}, animation_prompts_positive="", animation_prompts_negative="",
        batch_name=case.label.replace(" ", "_"),
        skip_video_creation=True, motion_preview_mode=False)


class LoopClock:
    """Seconds spent inside the denoising loop (device synchronised at both ends), per frame."""

    def __init__(self, synchronize: Callable[[], None]) -> None:
        self.synchronize = synchronize
        self.current = 0.0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """`function`, its time added to self.current."""
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.synchronize()
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.synchronize()
                self.current += time.perf_counter() - start

        return timed


def model_factory(case: Case, device: str) -> Any:
    """The case's model factory: diffusers over its checkpoint, or full-size random networks."""
    if case.checkpoint.startswith(RANDOM):
        from bench.gpu_check_random import random_model_factory

        return random_model_factory(case.checkpoint.removeprefix(RANDOM), device)
    from deforum.integrations.diffusers.service import load_model_service

    return lambda settings: load_model_service(case.checkpoint, device=device)


def render_case(case: Case, args: argparse.Namespace, root: Path) -> CaseResult:
    """Render one checkpoint, timing every frame and its denoising loop."""
    import torch

    from deforum.core.run import run_render
    from deforum.integrations.diffusers import sampling
    from deforum.integrations.services import Environment, services_for

    device = torch.device(args.device)
    synchronize = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    clock, vae_clock = LoopClock(synchronize), LoopClock(synchronize)
    frames, loops, vae = [], [], []
    mark = [time.perf_counter()]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        frames.append(now - mark[0])
        loops.append(clock.current)
        vae.append(vae_clock.current)
        clock.current, vae_clock.current, mark[0] = 0.0, 0.0, now

    original = (sampling.denoise, sampling.vae_encode, sampling.vae_decode)
    sampling.denoise = clock.wrap(original[0])
    sampling.vae_encode, sampling.vae_decode = vae_clock.wrap(original[1]), vae_clock.wrap(original[2])
    try:
        settings = check_settings(case, args)
        services = services_for(settings, Environment(model=model_factory(case, args.device)))
        mark[0] = time.perf_counter()
        result = run_render(settings, services, root, progress=progress)
    finally:
        sampling.denoise, sampling.vae_encode, sampling.vae_decode = original
    return CaseResult(case.label, case.size, frames, loops, vae, str(result.outdir), result.timestring)


def report(summaries: list[dict[str, Any]]) -> str:
    """A markdown table of the results."""
    rows = ["| model | size | frames | s/frame (p90) | outside the loop (p90) | of it VAE | of it the rest | < 5 % | "
            "WebUI frame 0 | WebUI run |", "|---|---:|---:|---:|---:|---:|---:|:---:|---|---|"]
    for s in summaries:
        web = s["webui"]
        rows.append(f"| {s['label']} | {s['size']} | {s['frames']} | {fmt(s['s_per_frame'], '.3f')} "
                    f"({fmt(s['s_per_frame_p90'], '.3f')}) | {fmt(s['outside_loop_share'], '.1%')} "
                    f"({fmt(s['outside_loop_share_p90'], '.1%')}) | {fmt(s['vae_share'], '.1%')} | "
                    f"{fmt(s['rest_share'], '.1%')} | {'yes' if s['outside_target_met'] else 'NO'} | "
                    f"{web.get('txt2img', '-')} | {web.get('run', '-')} |")
    return "\n".join(rows)


def fmt(value: float | None, spec: str) -> str:
    """A number formatted, or '-'."""
    return "-" if value is None else format(value, spec)


def main(argv: Sequence[str] | None = None) -> int:
    """Check, render, compare, print; 0 when it ran (or was skipped for want of CUDA)."""
    args = parse_args(argv)
    problem = cuda_problem(args.device)
    if problem:
        print(f"gpu_check skipped: {problem} It needs a CUDA GPU and real checkpoints.")
        return 0
    if not args.device.startswith("cuda") and not args.tiny:
        raise SystemExit("gpu_check: --device other than cuda is only for the --tiny self-test.")
    with tempfile.TemporaryDirectory(prefix="deforum-gpu-check-") as scratch:
        root = Path(args.outdir) if args.outdir else Path(scratch) / "out"
        cases = cases_from(args, Path(scratch) / "tiny")
        results = [render_case(case, args, root) for case in cases]
        if args.webui_url and not args.random_weights:
            for case, result in zip(cases, results, strict=True):
                result.webui = compare_with_webui(args.webui_url, case, check_settings(case, args), result)
        summaries = [result.summary() for result in results]
    print(report(summaries))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(summaries, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
