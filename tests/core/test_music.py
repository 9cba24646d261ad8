"""Music variables of a render: from the settings (fps, bpm, audio_path or soundtrack) into keys and prompts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("librosa")

from deforum.core.music import audio_source, schedule_variables, uses_audio  # noqa: E402
from deforum.core.run_inputs import render_inputs  # noqa: E402
from deforum.media.audio import AudioError  # noqa: E402
from deforum.models.settings import Settings  # noqa: E402
from tests.cli.test_cli import run_cli  # noqa: E402
from tests.media.audio_signals import bursts, write_wav  # noqa: E402

SMALL = {"W": 64, "H": 64, "max_frames": 30, "animation_mode": "2D", "seed": 5, "fps": 10, "bpm": 120,
         "diffusion_cadence": 1, "motion_preview_mode": True, "skip_video_creation": True,
         "prompts": {"0": "a drum `floor(beat)`"}}


@pytest.fixture
def bass_wav(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three seconds with one bass burst at 1.0–1.6 s; the analysis cache goes to tmp_path."""
    monkeypatch.setenv("DEFORUM_AUDIO_CACHE", str(tmp_path / "cache"))
    return write_wav(tmp_path / "bass.wav", bursts([(1.0, 0.6, 40.0, 200.0)], 3.0))


def test_render_inputs_evaluate_beat_and_bpm_exactly() -> None:
    settings = Settings.from_dict({**SMALL, "zoom": "0: (1 + 0.01*beat)", "angle": "0: (bpm/60)"})
    inputs = render_inputs(settings, 5)
    np.testing.assert_array_equal(inputs.keys["zoom"], 1 + 0.01 * (np.arange(30) * 120 / 600))
    np.testing.assert_array_equal(inputs.keys["angle"], [2.0] * 30)
    assert [inputs.prompts[f][0] for f in (4, 5, 9, 10)] == ["a drum 0.0", "a drum 1.0", "a drum 1.0", "a drum 2.0"]


def test_audio_features_come_from_audio_path_when_a_schedule_uses_them(bass_wav: Path) -> None:
    settings = Settings.from_dict({**SMALL, "audio_path": str(bass_wav), "zoom": "0: (1 + 0.5*bass)"})
    assert uses_audio(settings) and audio_source(settings) == str(bass_wav)
    zoom = render_inputs(settings, 5).keys["zoom"]
    assert zoom.max() == pytest.approx(1.5) and 10 <= int(np.argmax(zoom)) <= 16
    assert zoom[:9].max() < 1.02 and zoom[18:].max() < 1.02


def test_the_soundtrack_is_the_default_audio(bass_wav: Path) -> None:
    settings = Settings.from_dict({**SMALL, "add_soundtrack": "File", "soundtrack_path": str(bass_wav),
                                   "angle": "0: (bass)"})
    assert audio_source(settings) == str(bass_wav)
    assert schedule_variables(settings).features["bass"].max() == 1.0


def test_no_audio_is_read_when_no_schedule_uses_it(tmp_path: Path) -> None:
    settings = Settings.from_dict({**SMALL, "audio_path": str(tmp_path / "missing.wav"),
                                   "prompts": {"0": "a bass guitar, treble clef, `t*2`"}})
    assert not uses_audio(settings)
    assert uses_audio(settings.replace(prompts={"0": "a bass guitar (glow:`1 + bass`)"}))
    assert schedule_variables(settings).features == {}


def test_audio_variable_without_audio_names_the_settings() -> None:
    settings = Settings.from_dict({**SMALL, "zoom": "0: (1 + onset)"})
    with pytest.raises(AudioError, match="'audio_path'.*add_soundtrack"):
        render_inputs(settings, 5)


def test_a_music_settings_file_renders_in_preview_from_the_cli(tmp_path: Path, bass_wav: Path) -> None:
    settings = {**SMALL, "max_frames": 12, "audio_path": str(bass_wav), "batch_name": "music",
                "translation_x": "0: (8*(1 - beat_offset))", "zoom": "0: (1 + 0.2*bass)"}
    path = tmp_path / "music.txt"
    path.write_text(json.dumps(settings))
    done = run_cli("render", str(path), "--preview", "--outdir", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    outdir = Path(done.stdout.strip().splitlines()[-1])
    assert len(list(outdir.glob("*_0000000[0-9][0-9].png"))) == 12
    saved = json.loads(next(outdir.glob("*_settings.txt")).read_text())
    assert saved["bpm"] == 120 and saved["audio_path"] == str(bass_wav)
