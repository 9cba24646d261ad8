"""Curves over frames drawn with matplotlib's Agg canvas: schedules (keyframes, cadence shading) and audio features."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np

from deforum.models.errors import DeforumError

CURVE_COLOR = "#1f77b4"
KEY_COLOR = "#d62728"
CADENCE_COLOR = "#bbbbbb"
CADENCE_ALPHA = 0.35
WIDTH_PX = 800
PANEL_PX = 150
DPI = 100
INSTALL_HINT = "install the audio extra: pip install -r requirements-audio.txt (matplotlib)"


class PlotError(DeforumError, ValueError):
    """A plot that cannot be drawn (matplotlib missing, nothing to draw)."""


@dataclass(frozen=True, eq=False)
class Curve:
    """One panel: per-frame values (shape (frames,)), the frames to mark, and a label."""

    name: str
    values: np.ndarray
    marks: tuple[int, ...] = ()
    note: str = ""


@dataclass(frozen=True, eq=False)
class Panel:
    """Where a panel's data sits in the image: pixel box (left, top, right, bottom) and data limits."""

    box: tuple[float, float, float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]

    def pixel(self, frame: float, value: float) -> tuple[int, int]:
        """(row, column) of a data point in the image."""
        left, top, right, bottom = self.box
        col = left + (frame - self.xlim[0]) / (self.xlim[1] - self.xlim[0]) * (right - left)
        row = bottom - (value - self.ylim[0]) / (self.ylim[1] - self.ylim[0]) * (bottom - top)
        return int(round(row)), int(round(col))


@dataclass(frozen=True, eq=False)
class PlotImage:
    """A drawn figure: RGB pixels (H, W, 3) uint8 and one Panel per curve."""

    pixels: np.ndarray
    panels: tuple[Panel, ...] = field(default=())

    def png(self) -> bytes:
        """The image as PNG bytes."""
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(self.pixels).save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()

    def save(self, path: str | Path) -> Path:
        """Write the PNG to `path` (folders created); returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.png())
        return target


def _matplotlib() -> tuple[ModuleType, ModuleType]:
    """matplotlib's Figure module and Agg canvas module, imported on first use (optional extra)."""
    try:
        from matplotlib import figure
        from matplotlib.backends import backend_agg
    except ImportError as exc:
        raise PlotError(f"Plotting needs matplotlib, which is not installed. Fix: {INSTALL_HINT}.") from exc
    return figure, backend_agg


def y_limits(values: np.ndarray) -> tuple[float, float]:
    """Value range with a 10% margin (±0.5 around a constant)."""
    low, high = float(np.min(values)), float(np.max(values))
    if high - low < 1e-12:
        return low - 0.5, high + 0.5
    pad = 0.1 * (high - low)
    return low - pad, high + pad


def draw_curves(curves: Sequence[Curve], *, tweens: np.ndarray | None = None, title: str = "",
                width: int = WIDTH_PX, panel_height: int = PANEL_PX) -> PlotImage:
    """One panel per curve over frames: line, marked frames as dots, tween (cadence) frames shaded (tweens: bool)."""
    if not curves:
        raise PlotError("nothing to plot: no schedule varies over the frames. Fix: plot a schedule that changes.")
    figure, backend_agg = _matplotlib()
    fig = figure.Figure(figsize=(width / DPI, panel_height * len(curves) / DPI + 0.4), dpi=DPI)
    canvas = backend_agg.FigureCanvasAgg(fig)
    axes = fig.subplots(len(curves), 1, squeeze=False)[:, 0]
    for ax, curve in zip(axes, curves, strict=True):
        _draw_panel(ax, curve, tweens)
    axes[-1].set_xlabel("frame")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    height = pixels.shape[0]
    panels = tuple(_panel(ax, height) for ax in axes)
    return PlotImage(pixels=pixels, panels=panels)


def _draw_panel(ax: object, curve: Curve, tweens: np.ndarray | None) -> None:
    """Line, marks, shading and labels of one panel."""
    values = np.asarray(curve.values, dtype=np.float64)
    frames = np.arange(len(values))
    ax.set_xlim(0, max(1, len(values) - 1))
    ax.set_ylim(*y_limits(values))
    if tweens is not None and np.any(tweens):
        ax.fill_between(frames, 0, 1, where=np.asarray(tweens[: len(values)], dtype=bool), step="mid",
                        transform=ax.get_xaxis_transform(), color=CADENCE_COLOR, alpha=CADENCE_ALPHA, linewidth=0)
    ax.plot(frames, values, color=CURVE_COLOR, linewidth=1.5)
    marks = [frame for frame in curve.marks if 0 <= frame < len(values)]
    if marks:
        ax.plot(marks, values[marks], "o", color=KEY_COLOR, markersize=4)
    label = f"{curve.name}  {curve.note}".strip()
    ax.set_title(label, fontsize=8, loc="left")
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)


def _panel(ax: object, height: int) -> Panel:
    """The axes' pixel box (image rows from the top) and data limits."""
    x0, y0, x1, y1 = ax.get_window_extent().extents
    return Panel(box=(x0, height - y1, x1, height - y0), xlim=tuple(ax.get_xlim()), ylim=tuple(ax.get_ylim()))
