"""`make bench`: run every bench_*.py script and collect their markdown output in bench/results.md."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
GPU_CHECKS = (
    "HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_render.py --model PATH/TO/sd_turbo.safetensors --steps 4 "
    "--skip-long  # the render loop's overhead around a real 4-step model",
    "HF_HUB_OFFLINE=1 DEFORUM_MODELS_DIR=/path/to/models .venv/bin/python bench/bench_depth.py --all --device cuda "
    "--repeats 20",
    ".venv/bin/python bench/bench_interpolation.py --device cuda --pairs 32 --upscale --all",
)


def machine_description() -> str:
    """One line about the machine the figures come from."""
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> int:
    """Run the benches in order; a failing bench is reported, the others still run."""
    sections = [f"# Benchmark results\n\n{time.strftime('%Y-%m-%d %H:%M')} on {machine_description()}\n"]
    failed = 0
    results: dict[str, dict] = {"machine": machine_description(), "date": time.strftime("%Y-%m-%d %H:%M")}
    for script in sorted(BENCH_DIR.glob("bench_*.py")):
        print(f"running {script.name} ...", flush=True)
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=BENCH_DIR.parent)
        failure = f"FAILED ({done.returncode}):\n```\n{done.stderr[-2000:]}\n```"
        body = done.stdout.strip() if done.returncode == 0 else failure
        failed += done.returncode != 0
        results[script.stem] = {"returncode": done.returncode, "output": body}
        sections.append(f"## {script.stem}\n\n{body}\n")
    sections.append("## When a GPU is at hand\n\n" + "\n".join(f"    {command}" for command in GPU_CHECKS) + "\n")
    (BENCH_DIR / "results.md").write_text("\n".join(sections), encoding="utf-8")
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"wrote {BENCH_DIR / 'results.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
