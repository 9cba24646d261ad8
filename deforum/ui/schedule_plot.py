"""The tab's schedule-plot panel: the selected schedule field drawn over frames as the user types, or its error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from deforum.animation.keys import NUMERIC_SCHEDULE_KEYS
from deforum.animation.schedule_parse import ScheduleError
from deforum.animation.variables import AUDIO_NAMES, ScheduleVariables
from deforum.media.audio import AudioError, analyse_file
from deforum.media.plots import PlotError

CONTEXT_KEYS = ("max_frames", "diffusion_cadence", "seed", "fps", "bpm", "audio_path")
DEFAULT_FIELD = "strength_schedule"


def plotted_keys(components: Mapping[str, Any]) -> list[str]:
    """The numeric schedule fields the tab has, in the schedule table's order."""
    return [key for key in NUMERIC_SCHEDULE_KEYS if key in components]


def _variables(text: str, fps: float, bpm: float, audio_path: str) -> ScheduleVariables:
    """fps and bpm, plus the audio features when the schedule names one and an audio file is set."""
    if not any(name in text for name in AUDIO_NAMES) or not (audio_path or "").strip():
        return ScheduleVariables(fps=fps, bpm=bpm)
    analysis = analyse_file(audio_path.strip().strip('"'), fps)
    return ScheduleVariables(fps=fps, bpm=bpm, features=analysis.features)


def plot_field(key: str, text: str, max_frames: Any, cadence: Any, seed: Any, fps: Any, bpm: Any,
               audio_path: Any) -> tuple[np.ndarray | None, str]:
    """(plot pixels (H, W, 3) or None, message): the schedule over max_frames frames, or why it cannot be drawn."""
    from deforum.core.schedule_view import schedule_plot

    try:
        frames, rate, tempo = int(max_frames or 0), float(fps or 15), float(bpm or 0)
        if frames < 1:
            return None, "**max_frames** must be at least 1 to plot a schedule."
        variables = _variables(str(text), rate, tempo, str(audio_path or ""))
        image = schedule_plot(str(text), frames, seed=int(seed if seed is not None else -1),
                              cadence=max(1, int(cadence or 1)), name=key, variables=variables)
    except (ScheduleError, AudioError, PlotError, ValueError) as exc:
        return None, f"**{key}**: {exc}"
    return image.pixels, f"**{key}** over {frames} frames (dots: keyframes; shaded: cadence tween frames)."


def plot_selected(key: str, max_frames: Any, cadence: Any, seed: Any, fps: Any, bpm: Any, audio_path: Any,
                  *texts: Any, keys: tuple[str, ...] = ()) -> tuple[np.ndarray | None, str]:
    """The event handler's body: pick the selected field's text among `texts` (ordered like `keys`) and plot it."""
    if key not in keys:
        return None, "Choose a schedule to plot."
    return plot_field(key, texts[keys.index(key)], max_frames, cadence, seed, fps, bpm, audio_path)


def build_schedule_plot(components: Mapping[str, Any]) -> dict[str, Any]:
    """The panel's components (field chooser, plot, message), redrawn when the field or any input changes."""
    import gradio as gr

    keys = tuple(plotted_keys(components))
    context = [components[key] for key in CONTEXT_KEYS if key in components]
    if len(context) != len(CONTEXT_KEYS):
        missing = [key for key in CONTEXT_KEYS if key not in components]
        raise KeyError(f"the schedule plot needs the tab's fields {missing}")
    chooser = gr.Dropdown(label="Plot schedule", choices=list(keys),
                          value=DEFAULT_FIELD if DEFAULT_FIELD in keys else keys[0], elem_id="deforum_plot_field")
    image = gr.Image(label="Schedule over frames", type="numpy", interactive=False, elem_id="deforum_plot_image")
    message = gr.Markdown("", elem_id="deforum_plot_message")
    inputs = [chooser, *context, *(components[key] for key in keys)]

    def handler(*values: Any) -> tuple[np.ndarray | None, str]:
        """Redraw the selected schedule."""
        return plot_selected(*values, keys=keys)

    for trigger in (chooser, *context, *(components[key] for key in keys)):
        trigger.change(fn=handler, inputs=inputs, outputs=[image, message], queue=False)
    return {"plot_field": chooser, "plot_image": image, "plot_message": message, "plot_handler": handler}
