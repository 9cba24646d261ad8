"""The tab's Audio panel: load a file, see tempo, beats and feature curves, write a generated schedule into a field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from deforum.animation.audio_schedule import MapError, feature_schedule, mapped_values
from deforum.animation.keys import NUMERIC_SCHEDULE_KEYS
from deforum.animation.variables import AUDIO_FEATURES
from deforum.media.audio import AudioError, analyse_file
from deforum.media.plots import PlotError

DEFAULT_TARGET = "zoom"
DEFAULT_MAP = "1 + 0.05*x"


@dataclass(frozen=True)
class AudioResult:
    """What one analysis shows: plot pixels (H, W, 3) or None, a summary, the schedule text, the tempo."""

    image: np.ndarray | None
    summary: str
    schedule: str
    tempo: float


def _path(audio: Any) -> str:
    """The local path of gr.Audio(type="filepath")'s value (a str, or a dict with 'name'/'path' in some versions)."""
    if isinstance(audio, Mapping):
        audio = audio.get("path") or audio.get("name")
    return str(audio or "").strip().strip('"')


def analyse_audio(audio: Any, fps: Any, feature: str, map_text: str, threshold: Any) -> AudioResult:
    """Analyse the loaded file at the tab's fps: the plot, a summary with tempo and beats, the schedule string."""
    from deforum.core.schedule_view import audio_plot

    path = _path(audio)
    if not path:
        return AudioResult(None, "Load an audio file (or a video with sound) first.", "", 0.0)
    gate = float(threshold) if threshold not in (None, "") and float(threshold) > 0 else None
    try:
        analysis = analyse_file(path, float(fps or 15))
        values = analysis.features[feature]
        schedule = feature_schedule(values, map_text or "x", gate)
        image = audio_plot(analysis, mapped=mapped_values(values, map_text or "x", gate)).pixels
    except (AudioError, MapError, PlotError, KeyError, ValueError) as exc:
        return AudioResult(None, f"**Audio**: {exc}", "", 0.0)
    beats = ", ".join(str(frame) for frame in analysis.beat_frames[:24])
    more = " …" if len(analysis.beat_frames) > 24 else ""
    summary = (f"**Tempo** {analysis.tempo:.1f} BPM · {analysis.duration:.1f} s = {analysis.frame_count} frames "
               f"at {float(fps or 15):g} fps · **beat frames** {beats or 'none found'}{more}")
    return AudioResult(image, summary, schedule, analysis.tempo)


def written_values(target: str, schedule: str, keys: tuple[str, ...]) -> list[str | None]:
    """One value per schedule field: the schedule for `target`, None (left as is) for the others."""
    if not schedule.strip():
        return [None] * len(keys)
    return [schedule if key == target else None for key in keys]


def _panel_components(gr: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    """The panel's own components, laid out in order."""
    made: dict[str, Any] = {"audio_file": gr.Audio(label="Audio file (or a video with sound)", type="filepath",
                                                   elem_id="deforum_audio_file")}
    with gr.Row():
        made["audio_feature"] = gr.Dropdown(label="Feature", choices=list(AUDIO_FEATURES), value="bass",
                                            elem_id="deforum_audio_feature")
        made["audio_map"] = gr.Textbox(label="Map (x = feature 0–1, t = frame)", value=DEFAULT_MAP,
                                       elem_id="deforum_audio_map")
        made["audio_threshold"] = gr.Number(label="Threshold (below = 0)", value=0, elem_id="deforum_audio_threshold")
    made["audio_analyse"] = gr.Button("Analyse", elem_id="deforum_audio_analyse")
    made["audio_summary"] = gr.Markdown("", elem_id="deforum_audio_summary")
    made["audio_plot"] = gr.Image(label="Features per frame (dots: beats)", type="numpy", interactive=False,
                                  elem_id="deforum_audio_plot")
    made["audio_schedule"] = gr.Textbox(label="Generated schedule", lines=3, elem_id="deforum_audio_schedule")
    made["audio_tempo"] = gr.Number(label="Detected tempo (BPM)", value=0, interactive=False,
                                    elem_id="deforum_audio_tempo")
    with gr.Row():
        made["audio_target"] = gr.Dropdown(label="Write into", choices=list(keys), elem_id="deforum_audio_target",
                                           value=DEFAULT_TARGET if DEFAULT_TARGET in keys else keys[0])
        made["audio_write"] = gr.Button("Write schedule to field", elem_id="deforum_audio_write")
        made["audio_use"] = gr.Button("Use this audio for audio_path and its tempo for bpm",
                                      elem_id="deforum_audio_use")
    return made


def build_audio_panel(components: Mapping[str, Any]) -> dict[str, Any]:
    """The panel's components, with Analyse, Write-to-field and Use-this-audio wired to the tab's fields."""
    import gradio as gr

    keys = tuple(key for key in NUMERIC_SCHEDULE_KEYS if key in components)
    made = _panel_components(gr, keys)

    def on_analyse(*values: Any) -> tuple[Any, str, str, float]:
        """Analyse and show."""
        result = analyse_audio(*values)
        return result.image, result.summary, result.schedule, round(result.tempo, 2)

    def on_write(chosen: str, text: str) -> list[Any]:
        """Put the schedule into the chosen field."""
        return [gr.update() if value is None else value for value in written_values(chosen, text or "", keys)]

    def on_use(loaded: Any, bpm: Any) -> tuple[str, float]:
        """Point audio_path at the loaded file and set bpm to the detected tempo."""
        return _path(loaded), float(bpm or 0)

    made["audio_analyse"].click(
        fn=on_analyse, inputs=[made["audio_file"], components["fps"], made["audio_feature"], made["audio_map"],
                               made["audio_threshold"]],
        outputs=[made["audio_plot"], made["audio_summary"], made["audio_schedule"], made["audio_tempo"]])
    made["audio_write"].click(fn=on_write, inputs=[made["audio_target"], made["audio_schedule"]],
                              outputs=[components[key] for key in keys])
    made["audio_use"].click(fn=on_use, inputs=[made["audio_file"], made["audio_tempo"]],
                            outputs=[components["audio_path"], components["bpm"]])
    return {**made, "audio_handlers": {"analyse": on_analyse, "write": on_write, "use": on_use}}
