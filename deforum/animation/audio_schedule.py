"""Per-frame feature values turned into a keyframe schedule string through a user formula of `x`."""

from __future__ import annotations

import numpy as np

from deforum.animation.expressions import ExpressionError, evaluate
from deforum.animation.schedule_parse import format_number
from deforum.models.errors import DeforumError

MAP_NAMES: frozenset[str] = frozenset({"x", "t"})


class MapError(DeforumError, ValueError):
    """A --map formula that is not allowed or gives a non-finite value."""


def mapped_values(values: np.ndarray, map_text: str = "x", threshold: float | None = None) -> np.ndarray:
    """`map_text` evaluated with x = values (gated to 0 below `threshold`) and t = frame (shape of values)."""
    x = np.asarray(values, dtype=np.float64)
    if threshold is not None:
        x = np.where(x >= threshold, x, 0.0)
    t = np.arange(len(x), dtype=np.float64)
    try:
        result = evaluate(map_text, {"x": x, "t": t})
    except ExpressionError as exc:
        raise MapError(f"--map {map_text!r}: {exc.reason}. Allowed names: x (the feature, 0–1), t (the frame). "
                       f"Fix: {exc.fix}, e.g. \"1 + 0.05*x\"") from exc
    mapped = np.broadcast_to(np.asarray(result, dtype=np.float64), x.shape).copy()
    if not np.isfinite(mapped).all():
        bad = int(np.argmin(np.isfinite(mapped)))
        raise MapError(f"--map {map_text!r} gives {mapped[bad]} at frame {bad}. Fix: keep the formula finite.")
    return mapped


def keyframe_frames(values: np.ndarray) -> np.ndarray:
    """Frames needed so linear interpolation between them reproduces `values` exactly: the ends of each run."""
    count = len(values)
    if count <= 2:
        return np.arange(count)
    changes_before = np.r_[True, values[1:] != values[:-1]]
    changes_after = np.r_[values[:-1] != values[1:], True]
    return np.flatnonzero(changes_before | changes_after)


def feature_schedule(values: np.ndarray, map_text: str = "x", threshold: float | None = None,
                     decimals: int = 4) -> str:
    """The keyframe string `0:(v0), 1:(v1), …` of mapped feature values, rounded, runs of equal values collapsed."""
    rounded = np.round(mapped_values(values, map_text, threshold), decimals) + 0.0
    return ", ".join(f"{frame}:({format_number(float(rounded[frame]))})" for frame in keyframe_frames(rounded))
