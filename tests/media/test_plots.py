"""Plot images: size, non-empty, the curve drawn where the values say, keyframes marked, cadence frames shaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("matplotlib")

from deforum.media.plots import (  # noqa: E402
    CADENCE_ALPHA,
    CADENCE_COLOR,
    CURVE_COLOR,
    KEY_COLOR,
    Curve,
    PlotError,
    draw_curves,
    y_limits,
)


def rgb(hex_color: str) -> np.ndarray:
    """'#rrggbb' as an int array."""
    return np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)])


def near(pixels: np.ndarray, row: int, col: int, color: str, radius: int = 2, tolerance: int = 60) -> bool:
    """Whether a pixel within `radius` of (row, col) has about `color`."""
    patch = pixels[row - radius:row + radius + 1, col - radius:col + radius + 1].astype(int)
    return bool((np.abs(patch - rgb(color)).sum(axis=-1) < tolerance).any())


def test_curve_pixels_lie_where_the_values_say() -> None:
    values = np.r_[np.linspace(0, 10, 30), np.full(30, 10.0), np.linspace(10, -5, 40)]
    image = draw_curves([Curve("zoom", values)], width=800, panel_height=300)
    pixels, panel = image.pixels, image.panels[0]
    assert pixels.shape == (340, 800, 3) and pixels.dtype == np.uint8
    for frame in (0, 15, 29, 45, 70, 99):
        row, col = panel.pixel(frame, values[frame])
        assert near(pixels, row, col, CURVE_COLOR), frame
        far_row, _ = panel.pixel(frame, values[frame] + 5 if values[frame] < 5 else values[frame] - 8)
        assert not near(pixels, far_row, col, CURVE_COLOR), frame


def test_keyframes_are_marked_and_tween_frames_shaded() -> None:
    values = np.r_[np.linspace(1, 2, 20), np.full(20, 2.0)]
    tweens = np.ones(40, dtype=bool)
    tweens[::4] = False
    image = draw_curves([Curve("angle", values, marks=(0, 19))], tweens=tweens, width=800, panel_height=300)
    pixels, panel = image.pixels, image.panels[0]
    for frame in (0, 19):
        assert near(pixels, *panel.pixel(frame, values[frame]), KEY_COLOR)
    assert not near(pixels, *panel.pixel(30, 2.0), KEY_COLOR)
    row = panel.pixel(0, 1.5)[0]
    shaded = panel.pixel(2, 1.5)[1]
    diffused = panel.pixel(8, 1.5)[1]
    blended = 255 - CADENCE_ALPHA * (255 - rgb(CADENCE_COLOR))  # the shade over the white background
    assert np.abs(pixels[row, shaded].astype(int) - blended).max() <= 3
    assert pixels[row, diffused].min() == 255  # white: a diffused frame is not shaded


def test_one_panel_per_curve_stacked_top_to_bottom_and_png_round_trip(tmp_path: Path) -> None:
    curves = [Curve("a", np.sin(np.arange(50) / 5)), Curve("b", np.arange(50.0)), Curve("c", np.ones(50))]
    image = draw_curves(curves, title="three")
    tops = [panel.box[1] for panel in image.panels]
    assert tops == sorted(tops) and len(image.panels) == 3
    saved = image.save(tmp_path / "sub" / "plot.png")
    with Image.open(saved) as read:
        assert read.size == (800, image.pixels.shape[0]) and read.mode == "RGB"
        assert np.array_equal(np.asarray(read), image.pixels)
    assert (image.pixels.reshape(-1, 3) != 255).any(axis=1).mean() > 0.02  # not blank


def test_constant_values_get_a_visible_range_and_nothing_to_plot_is_a_clear_error() -> None:
    assert y_limits(np.array([3.0, 3.0])) == (2.5, 3.5)
    assert y_limits(np.array([0.0, 10.0])) == (-1.0, 11.0)
    with pytest.raises(PlotError, match="no schedule varies"):
        draw_curves([])
