"""`deforum audio`, `deforum schedule --plot/--bpm` and `deforum settings plot`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("librosa")

from deforum.animation.schedules import evaluate_schedule  # noqa: E402
from deforum.cli import main  # noqa: E402
from deforum.media.audio import analyse_file  # noqa: E402
from tests.media.audio_signals import bursts, click_track, write_wav  # noqa: E402


@pytest.fixture(autouse=True)
def audio_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Analysis cache inside the test's folder."""
    monkeypatch.setenv("DEFORUM_AUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_audio_prints_a_keyframe_string_that_reproduces_the_mapped_feature(tmp_path: Path, capsys) -> None:
    wav = write_wav(tmp_path / "bass.wav", bursts([(1.0, 0.6, 40.0, 200.0)], 3.0))
    plot = tmp_path / "audio.png"
    assert main(["audio", str(wav), "--fps", "15", "--feature", "bass", "--map", "1 + 0.05*x",
                 "--threshold", "0.1", "--plot", str(plot)]) == 0
    out, err = capsys.readouterr()
    schedule = out.strip()
    assert schedule.startswith("0:(1), ") and "tempo" in err and "beat frames" in err
    bass = analyse_file(str(wav), 15).features["bass"]
    expected = np.round(1 + 0.05 * np.where(bass >= 0.1, bass, 0), 4)
    np.testing.assert_allclose(evaluate_schedule(schedule, len(bass)), expected, atol=1e-12)
    assert len(schedule.split(", ")) < len(bass)  # runs of equal values are collapsed
    with Image.open(plot) as image:
        assert image.size[0] == 800 and image.size[1] > 600


def test_audio_reports_tempo_and_beats_of_a_click_track(tmp_path: Path, capsys) -> None:
    samples, times = click_track(120.0, 6.0)
    assert main(["audio", str(write_wav(tmp_path / "clicks.wav", samples)), "--fps", "12"]) == 0
    err = capsys.readouterr().err
    tempo = float(err.split("tempo ")[1].split(" BPM")[0])
    beats = [int(v) for v in err.split("beat frames: ")[1].split(", ")]
    assert abs(tempo - 120.0) < 1.0
    assert all(np.abs(np.floor(times * 12) - beat).min() <= 1 for beat in beats)


def test_audio_errors_are_one_line_with_the_fix(tmp_path: Path, capsys) -> None:
    assert main(["audio", str(tmp_path / "none.wav")]) == 2
    assert "does not exist" in capsys.readouterr().err
    wav = write_wav(tmp_path / "a.wav", np.zeros(22050, np.float32))
    assert main(["audio", str(wav), "--map", "x + y"]) == 2
    assert "--map 'x + y': unknown name 'y'" in capsys.readouterr().err


def test_schedule_with_bpm_and_plot(tmp_path: Path, capsys) -> None:
    plot = tmp_path / "s.png"
    assert main(["schedule", "0: (beat)", "--frames", "4", "--bpm", "150", "--fps", "10", "--plot", str(plot)]) == 0
    assert json.loads(capsys.readouterr().out) == [0.0, 0.25, 0.5, 0.75]
    with Image.open(plot) as image:
        assert image.size[0] == 800


def test_settings_plot_writes_the_png(tmp_path: Path, capsys) -> None:
    settings = tmp_path / "s.txt"
    settings.write_text(json.dumps({"max_frames": 30, "zoom": "0: (1), 15: (1.3)", "bpm": 100,
                                    "angle": "0: (beat_offset)"}))
    out = tmp_path / "schedules.png"
    assert main(["settings", "plot", str(settings), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    with Image.open(out) as image:
        assert image.size[0] == 800 and image.size[1] >= 300


def test_schedule_reads_audio_features_with_audio(tmp_path: Path, capsys) -> None:
    wav = write_wav(tmp_path / "bass.wav", bursts([(1.0, 0.6, 40.0, 200.0)], 2.0))
    assert main(["schedule", "0: (1 + bass)", "--frames", "30", "--audio", str(wav)]) == 0
    values = json.loads(capsys.readouterr().out)
    assert max(values) == 2.0 and 14 <= values.index(2.0) <= 24 and values[0] == 1.0
    assert main(["schedule", "0: (1 + bass)", "--frames", "3"]) == 2
    assert "audio variable 'bass' has no values" in capsys.readouterr().err
