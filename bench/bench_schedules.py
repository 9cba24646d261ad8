"""Time every schedule of the default settings for 10,000 frames: vectorized build_keys vs a per-frame loop.

Run from the repository root: `python bench/bench_schedules.py [--frames N] [--repeat R]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deforum.animation import expressions, schedule_parse  # noqa: E402
from deforum.animation.keys import STRING_SCHEDULE_KEYS, build_keys, numeric_schedule_keys  # noqa: E402
from deforum.animation.schedules import parse_schedule, parse_string_schedule, resolve_keyframes  # noqa: E402

SETTINGS_CANDIDATES = (ROOT / "default_settings.txt", ROOT.parent / "shared/compat/original/default_settings.txt")


def load_settings() -> Mapping[str, Any]:
    """The first default settings file that exists."""
    for path in SETTINGS_CANDIDATES:
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    raise SystemExit(f"no default settings file found in {', '.join(map(str, SETTINGS_CANDIDATES))}")


def clear_caches() -> None:
    """Forget parsed schedules and checked expressions so that every run parses from scratch."""
    schedule_parse._parse_cached.cache_clear()
    expressions._checked_text.cache_clear()


def vectorized(settings: Mapping[str, Any], frames: int, seed: int) -> dict[str, Any]:
    """The library path: every schedule evaluated as whole arrays."""
    keys = build_keys(settings, frames, seed)
    return {**keys.series, **keys.strings}


def per_frame_loop(settings: Mapping[str, Any], frames: int, seed: int) -> dict[str, Any]:
    """The baseline: same parsing, then one Python step (and one numexpr call per expression) per frame."""
    import numexpr

    result: dict[str, Any] = {}
    for key in numeric_schedule_keys(settings):
        resolved = resolve_keyframes(parse_schedule(settings[key], key), frames, seed=seed, name=key)
        result[key] = np.array([_loop_value(resolved, frame, frames, seed, numexpr) for frame in range(frames)])
    for key in (k for k in STRING_SCHEDULE_KEYS if k in settings):
        resolved = resolve_keyframes(parse_string_schedule(settings[key], key), frames, name=key)
        result[key] = tuple(_owner(resolved, frame)[1].value_text for frame in range(frames))
    return result


def _owner(resolved: list, frame: int) -> tuple[int, Any]:
    """The last keyframe at or before `frame`, or the first keyframe before it."""
    owner = resolved[0]
    for entry in resolved:
        if entry[0] > frame:
            break
        owner = entry
    return owner


def _loop_value(resolved: list, frame: int, frames: int, seed: int, numexpr: Any) -> float:
    """One frame's value, computed the way a per-frame implementation would."""
    variables = {"max_f": frames - 1, "s": seed}
    owner = _owner(resolved, frame)
    if owner[1].number is None:
        at = max(frame, owner[0])
        return float(numexpr.evaluate(owner[1].value_text, local_dict={"t": at, **variables}))
    later = [entry for entry in resolved if entry[0] > frame]
    if not later or frame < owner[0]:
        return owner[1].number
    nxt_frame, nxt = later[0]
    target = nxt.number if nxt.number is not None else float(
        numexpr.evaluate(nxt.value_text, local_dict={"t": nxt_frame, **variables}))
    return owner[1].number + (target - owner[1].number) * (frame - owner[0]) / (nxt_frame - owner[0])


def timed(function: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Wall times in milliseconds of `repeat` runs (caches cleared before each) and the last result."""
    times, result = [], None
    for _ in range(repeat):
        clear_caches()
        start = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


def main() -> None:
    """Print a markdown table of both timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    settings, seed = load_settings(), 1234
    vectorized(settings, 10, seed)  # import numexpr and warm it up once
    fast_times, fast = timed(lambda: vectorized(settings, options.frames, seed), options.repeat)
    slow_times, slow = timed(lambda: per_frame_loop(settings, options.frames, seed), max(1, options.repeat // 2))
    for key, values in fast.items():
        same = values == slow[key] if isinstance(values, tuple) else np.allclose(values, slow[key], rtol=1e-12)
        if not same:
            raise SystemExit(f"the two methods disagree on {key}")
    count = len(fast)
    print(f"Schedules: {count} from default settings, {options.frames} frames (caches cleared before each run)\n")
    print("| method | best ms | median ms |")
    print("|---|---:|---:|")
    print(f"| vectorized `build_keys` | {min(fast_times):.1f} | {statistics.median(fast_times):.1f} |")
    print(f"| per-frame Python loop | {min(slow_times):.1f} | {statistics.median(slow_times):.1f} |")
    print(f"| speed-up | {min(slow_times) / min(fast_times):.0f}x | |")


if __name__ == "__main__":
    main()
