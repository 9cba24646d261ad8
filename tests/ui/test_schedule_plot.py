"""The schedule-plot panel: the selected field drawn as the user types, the error when invalid (gradio 3 and 4)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from deforum.media.plots import CURVE_COLOR  # noqa: E402
from deforum.ui.schedule_plot import CONTEXT_KEYS, plot_field, plot_selected, plotted_keys  # noqa: E402
from tests.media.test_plots import near  # noqa: E402

CONTEXT = (60, 1, 7, 15, 120, "")  # max_frames, cadence, seed, fps, bpm, audio_path


def test_a_valid_schedule_is_drawn_where_its_values_are() -> None:
    pixels, message = plot_field("zoom", "0: (1), 30: (1.5)", *CONTEXT)
    assert pixels is not None and pixels.shape[1] == 800 and "zoom" in message


def test_music_variables_are_plotted_with_the_tabs_fps_and_bpm() -> None:
    first, _ = plot_field("angle", "0: (beat)", 60, 1, 7, 15, 120, "")
    second, _ = plot_field("angle", "0: (beat)", 60, 1, 7, 15, 60, "")
    assert first is not None and second is not None and first.shape == second.shape
    assert not np.array_equal(first, second)  # same curve shape, different axis labels (twice the beats)


def test_an_invalid_schedule_shows_the_error_not_a_plot() -> None:
    pixels, message = plot_field("zoom", "0: (1), 10: (t*)", *CONTEXT)
    assert pixels is None and "**zoom**" in message and "invalid syntax" in message and "Fix:" in message
    pixels, message = plot_field("zoom", "0: (1 + bass)", *CONTEXT)
    assert pixels is None and "audio variable 'bass'" in message
    assert plot_field("zoom", "0: (1)", 0, 1, 7, 15, 0, "")[0] is None


def test_the_selected_field_is_the_one_plotted() -> None:
    keys = ("zoom", "angle")
    pixels, message = plot_selected("angle", *CONTEXT, "0: (1), 10: (t*)", "0: (t)", keys=keys)
    assert pixels is not None and message.startswith("**angle**")
    assert plot_selected("nothing", *CONTEXT, "0: (1)", "0: (1)", keys=keys) == (None, "Choose a schedule to plot.")


def test_build_wires_the_panel_to_the_tab_fields() -> None:
    gr = pytest.importorskip("gradio")
    from deforum.ui.schedule_plot import build_schedule_plot

    with gr.Blocks() as blocks:
        fields = {key: gr.Textbox(value="0: (1)") for key in ("zoom", "angle", "strength_schedule")}
        fields.update({"max_frames": gr.Number(value=40), "diffusion_cadence": gr.Slider(1, 10, value=2),
                       "seed": gr.Number(value=3), "fps": gr.Number(value=15), "bpm": gr.Number(value=90),
                       "audio_path": gr.Textbox(value="")})
        panel = build_schedule_plot(fields)
    assert plotted_keys(fields) == ["angle", "zoom", "strength_schedule"]
    assert panel["plot_field"].value == "strength_schedule"
    assert len(blocks.fns) == len(CONTEXT_KEYS) + 1 + 3
    pixels, message = panel["plot_handler"]("zoom", 40, 2, 3, 15, 90, "", "0: (t/40)", "0: (0), 20: (1)", "0: (1)")
    assert pixels is not None and "zoom" in message
    pixels, _ = panel["plot_handler"]("angle", 40, 2, 3, 15, 90, "", "0: (t/40)", "0: (0), 20: (1)", "0: (1)")
    assert pixels is not None


def test_plotted_pixels_follow_the_typed_schedule() -> None:
    from deforum.core.schedule_view import schedule_plot

    text = "0: (0), 30: (2), 59: (0)"
    pixels, _ = plot_field("zoom", text, *CONTEXT)
    panel = schedule_plot(text, 60, seed=7, name="zoom").panels[0]
    assert near(pixels, *panel.pixel(15, 1.0), CURVE_COLOR) and near(pixels, *panel.pixel(45, 1.0), CURVE_COLOR)
    assert not near(pixels, *panel.pixel(15, 1.8), CURVE_COLOR)
