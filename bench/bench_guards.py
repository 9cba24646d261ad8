"""How fast oversized or over-deep input is refused, against one evaluation of a plain schedule.

Run from the repository root: `python bench/bench_guards.py [--repeat R]`. Targets (moved here from the tests):
a 1 MB schedule is refused in under 0.5 s and each huge or deep expression in under 1 s on this 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deforum.animation.expressions import ExpressionError, evaluate  # noqa: E402
from deforum.animation.schedules import ScheduleError, evaluate_schedule  # noqa: E402

HUGE_EXPRESSIONS = {"1+ ×1001": "1+" * 1001 + "1", "1 MB name": "x" * 1_000_000,
                    "250 parentheses": "(" * 250 + "t" + ")" * 250, "120 nested sin": "sin(" * 120 + "t" + ")" * 120,
                    "1500 minus signs": "-" * 1500 + "t", "150 terms": " + ".join(["sin(t)"] * 150)}
TARGETS = {"1 MB schedule": 0.5, **{name: 1.0 for name in HUGE_EXPRESSIONS}}


def seconds(action: Callable[[], object], expected: type[Exception], repeat: int) -> float:
    """Median seconds of ``action``, which must raise ``expected``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            action()
        except expected:
            times.append(time.perf_counter() - start)
        else:
            raise SystemExit(f"{action} was not refused")
    return statistics.median(times)


def main() -> None:
    """Print a markdown table of refusal times, their target and the ratio to a plain 10,000-frame schedule."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    evaluate_schedule("0: (1), 100: (sin(t/10))", 10_000)
    baseline = time.perf_counter() - start
    rows = {"1 MB schedule": seconds(lambda: evaluate_schedule("0: (1), " * 150_000, 10), ScheduleError, args.repeat)}
    rows.update({name: seconds(lambda text=text: evaluate(text, {"t": 0.0}), ExpressionError, args.repeat)
                 for name, text in HUGE_EXPRESSIONS.items()})
    print(f"Baseline: one 10,000-frame schedule evaluated in {baseline * 1e3:.1f} ms.\n")
    print("| refused input | median ms | target ms | met | × baseline |\n|---|---:|---:|---|---:|")
    for name, value in rows.items():
        met = "yes" if value < TARGETS[name] else "NO"
        print(f"| {name} | {value * 1e3:.1f} | {TARGETS[name] * 1e3:.0f} | {met} | {value / baseline:.2f} |")


if __name__ == "__main__":
    main()
