"""Schedules as curves: the varying ones of a settings file, keyframes, cadence tween frames, the audio plot."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from deforum.animation.variables import ScheduleVariables  # noqa: E402
from deforum.core.schedule_view import (  # noqa: E402
    schedule_curve,
    schedule_plot,
    settings_plot,
    tween_mask,
    varying_curves,
)
from deforum.media.plots import CURVE_COLOR, KEY_COLOR  # noqa: E402
from deforum.models.settings import Settings  # noqa: E402
from tests.media.test_plots import near  # noqa: E402


def test_tween_mask_marks_the_frames_cadence_does_not_diffuse() -> None:
    assert tween_mask(7, 3).tolist() == [False, True, True, False, True, True, False]
    assert not tween_mask(5, 1).any()


def test_schedule_curve_marks_keyframes_and_uses_music_variables() -> None:
    curve = schedule_curve("0: (0), 10: (beat), 20: (1)", 30, variables=ScheduleVariables(fps=10.0, bpm=60.0))
    assert curve.marks == (0, 10, 20)
    assert curve.values[15] == 1.5 and curve.values[25] == 1.0


def test_only_varying_schedules_become_curves() -> None:
    settings = Settings.from_dict({"max_frames": 20, "zoom": "0: (1), 10: (1.5)", "angle": "0: (t*2)",
                                   "translation_x": "0: (0)", "seed": 3})
    curves = {curve.name: curve for curve in varying_curves(settings)}
    assert {"zoom", "angle"} <= set(curves) and "translation_x" not in curves
    assert curves["zoom"].marks == (0, 10)
    np.testing.assert_array_equal(curves["angle"].values, np.arange(20) * 2.0)


def test_settings_plot_has_a_panel_per_varying_schedule_with_curve_and_keys() -> None:
    settings = Settings.from_dict({"max_frames": 40, "zoom": "0: (1), 20: (2)", "diffusion_cadence": 4,
                                   "animation_mode": "2D"})
    curves = varying_curves(settings)
    image = settings_plot(settings)
    assert len(image.panels) == len(curves) and image.pixels.shape[1] == 800
    zoom = [c.name for c in curves].index("zoom")
    panel = image.panels[zoom]
    assert near(image.pixels, *panel.pixel(30, 2.0), CURVE_COLOR)
    assert near(image.pixels, *panel.pixel(20, 2.0), KEY_COLOR)


def test_schedule_plot_of_one_schedule() -> None:
    image = schedule_plot("0: (sin(t/5))", 60, cadence=2)
    panel = image.panels[0]
    for frame in (5, 17, 44):
        assert near(image.pixels, *panel.pixel(frame, np.sin(frame / 5)), CURVE_COLOR)
