"""The Audio panel: analyse a loaded file, show tempo, beats and curves, write the schedule into a field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("librosa")
pytest.importorskip("matplotlib")

from deforum.animation.schedules import evaluate_schedule  # noqa: E402
from deforum.ui.audio_panel import analyse_audio, written_values  # noqa: E402
from tests.media.audio_signals import bursts, click_track, write_wav  # noqa: E402


@pytest.fixture
def wav(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Eight seconds of clicks at 120 BPM with a bass burst at 2–3 s; analyses cached in tmp_path."""
    monkeypatch.setenv("DEFORUM_AUDIO_CACHE", str(tmp_path / "cache"))
    clicks, _ = click_track(120.0, 8.0)
    return write_wav(tmp_path / "song.wav", 0.8 * clicks + 0.15 * bursts([(2.0, 1.0, 40.0, 200.0)], 8.0))


def test_analyse_shows_tempo_beats_plot_and_a_schedule(wav: Path) -> None:
    result = analyse_audio(str(wav), 15, "bass", "1 + 0.1*x", 0)
    assert result.image is not None and result.image.shape[1] == 800 and result.image.shape[0] > 600
    assert abs(result.tempo - 120.0) < 1.0 and "**Tempo** 120." in result.summary and "beat frames" in result.summary
    zoom = evaluate_schedule(result.schedule, 120)
    assert zoom.max() == pytest.approx(1.1) and 30 <= int(np.argmax(zoom)) <= 45 and zoom[:28].max() < 1.01


def test_gradio_4_file_dicts_and_problems_become_messages(wav: Path, tmp_path: Path) -> None:
    assert analyse_audio({"path": str(wav)}, 15, "amp", "x", None).schedule
    assert analyse_audio(None, 15, "amp", "x", 0).summary.startswith("Load an audio file")
    missing = analyse_audio(str(tmp_path / "gone.wav"), 15, "amp", "x", 0)
    assert missing.image is None and "does not exist" in missing.summary
    bad = analyse_audio(str(wav), 15, "amp", "x + y", 0)
    assert bad.image is None and "unknown name 'y'" in bad.summary


def test_written_values_touch_only_the_target() -> None:
    assert written_values("zoom", "0:(1)", ("angle", "zoom")) == [None, "0:(1)"]
    assert written_values("zoom", "  ", ("angle", "zoom")) == [None, None]


def test_build_wires_analyse_write_and_use(wav: Path) -> None:
    gr = pytest.importorskip("gradio")
    from deforum.ui.audio_panel import build_audio_panel

    with gr.Blocks() as blocks:
        fields = {"zoom": gr.Textbox(value="0: (1)"), "angle": gr.Textbox(value="0: (0)"),
                  "fps": gr.Number(value=15), "bpm": gr.Number(value=0), "audio_path": gr.Textbox(value="")}
        panel = build_audio_panel(fields)
    assert len(blocks.fns) == 3 and panel["audio_target"].value == "zoom"
    handlers = panel["audio_handlers"]
    image, summary, schedule, tempo = handlers["analyse"](str(wav), 15, "onset", "x", 0)
    assert image is not None and abs(tempo - 120.0) < 1.0 and schedule.startswith("0:(")
    written = handlers["write"]("zoom", schedule)
    assert written[1] == schedule and written[0] != schedule  # angle left unchanged (an update)
    assert handlers["use"](str(wav), tempo) == (str(wav), tempo)
