"""Audio analysis on generated audio: tempo and beats of a click track, band features of noise bursts, the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("librosa")

from deforum.media.audio import (  # noqa: E402
    AudioError,
    analyse_file,
    analyse_samples,
    decode_audio,
    frame_means,
    normalise,
)
from tests.media.audio_signals import SR, bursts, click_track, sine_sweep, write_wav  # noqa: E402

FPS = 15


@pytest.mark.parametrize("bpm", [97.0, 120.0, 140.0])
def test_click_track_tempo_within_one_bpm_and_beats_within_one_frame(bpm: float) -> None:
    samples, times = click_track(bpm, 10.0)
    analysis = analyse_samples(samples, SR, FPS)
    assert abs(analysis.tempo - bpm) < 1.0
    truth = np.floor(times * FPS)  # the frame each click falls in: [i/fps, (i+1)/fps)
    detected = np.asarray(analysis.beat_frames)
    assert len(detected) >= len(truth) - 2
    assert np.abs(detected[:, None] - truth[None, :]).min(axis=1).max() <= 1.0


def test_click_track_amplitude_and_onset_peak_on_the_clicks() -> None:
    samples, times = click_track(120.0, 6.0, offset=0.5)
    analysis = analyse_samples(samples, SR, FPS)
    click_frames = set(np.floor(times * FPS).astype(int))
    for name in ("amp", "onset"):
        values = analysis.features[name]
        assert values.min() >= 0 and values.max() == pytest.approx(1.0)
        top = np.argsort(values)[-len(click_frames):]
        assert sum(any(abs(f - c) <= 1 for c in click_frames) for f in top) >= len(click_frames) - 1


def test_noise_bursts_peak_in_their_band_where_the_bursts_are() -> None:
    plan = [(1.0, 0.6, 40.0, 200.0), (3.0, 0.6, 600.0, 3000.0), (5.0, 0.6, 5000.0, 10000.0)]
    analysis = analyse_samples(bursts(plan, 7.0), SR, FPS)
    for name, (start, length, _, _) in zip(("bass", "mid", "treble"), plan, strict=True):
        values = analysis.features[name]
        inside = slice(int(start * FPS) + 1, int((start + length) * FPS) - 1)
        assert int(np.argmax(values)) in range(inside.start - 1, inside.stop + 1)
        assert values[inside].min() > 0.3
        others = [s for s, *_ in plan if s != start]
        for other in others:
            assert values[int(other * FPS) + 2: int((other + length) * FPS) - 2].max() < 0.05


def test_sine_sweep_moves_energy_from_bass_through_mid_to_treble() -> None:
    analysis = analyse_samples(sine_sweep(6.0), SR, FPS)
    peaks = {name: int(np.argmax(analysis.features[name])) for name in ("bass", "mid", "treble")}
    assert peaks["bass"] < peaks["mid"] < peaks["treble"]
    amp = analysis.features["amp"][2:-2]
    assert amp.min() > 0.8  # constant-amplitude sweep: a flat envelope
    assert analysis.frame_count == 90


def test_silence_gives_zero_features_and_no_tempo() -> None:
    analysis = analyse_samples(np.zeros(SR * 2, np.float32), SR, FPS)
    assert all(not values.any() for values in analysis.features.values())
    assert analysis.tempo == 0.0 and analysis.beat_frames == ()


def test_frame_means_average_inside_each_frame_and_fill_gaps() -> None:
    times = np.array([0.0, 0.05, 0.1, 0.3])
    means = frame_means(np.array([1.0, 3.0, 5.0, 7.0]), times, 10.0, 4)
    np.testing.assert_allclose(means, [2.0, 5.0, 6.0, 7.0])
    np.testing.assert_allclose(normalise(np.array([0.0, 2.0, 4.0])), [0.0, 0.5, 1.0])


def test_decode_and_cache_by_content(tmp_path: Path) -> None:
    samples, _ = click_track(120.0, 3.0)
    wav = write_wav(tmp_path / "clicks.wav", samples)
    decoded = decode_audio(str(wav))
    assert abs(len(decoded) - len(samples)) <= 1 and np.abs(decoded - samples).max() < 1e-3
    cache = tmp_path / "cache"
    first = analyse_file(str(wav), FPS, cache_dir=cache)
    stored = list(cache.glob("*.npz"))
    assert len(stored) == 1
    copy = write_wav(tmp_path / "same.wav", samples)
    second = analyse_file(str(copy), FPS, cache_dir=cache)
    assert list(cache.glob("*.npz")) == stored
    assert second.tempo == first.tempo and second.beat_frames == first.beat_frames
    np.testing.assert_array_equal(second.features["bass"], first.features["bass"])
    analyse_file(str(wav), 24, cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 2


def test_missing_or_soundless_files_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="Setting 'audio_path'.*does not exist"):
        analyse_file(str(tmp_path / "nope.wav"), FPS, cache_dir=tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    with pytest.raises(AudioError, match="Setting 'audio_path': ffmpeg could not decode"):
        decode_audio(str(text))


def test_analysis_holds_the_numba_compile_lock(monkeypatch) -> None:
    """librosa runs under a per-user file lock, so two processes never write numba's cache at once."""
    import os
    import tempfile

    from filelock import FileLock, Timeout

    from deforum.media import audio

    held = []

    def probe(librosa, y, sample_rate, fps):
        path = os.path.join(tempfile.gettempdir(), f"deforum-librosa-{os.getuid()}.lock")
        try:
            with FileLock(path, timeout=0):
                held.append(False)
        except Timeout:
            held.append(True)
        return "analysis"

    monkeypatch.setattr(audio, "_analyse", probe)
    assert audio.analyse_samples(np.zeros(100, dtype=np.float32), 22050, 10.0) == "analysis"
    assert held == [True]
