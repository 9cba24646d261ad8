"""Audio analysis for music-driven schedules: ffmpeg decoding, per-frame features (0–1), tempo and beats, a cache."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from deforum.media.video import VideoError, ffmpeg_path
from deforum.models.errors import DeforumError

logger = logging.getLogger(__name__)

SAMPLE_RATE = 22050
HOP_LENGTH = 256
N_FFT = 2048
BANDS: dict[str, tuple[float, float]] = {"bass": (20.0, 250.0), "mid": (250.0, 4000.0), "treble": (4000.0, 11025.0)}
FEATURE_NAMES: tuple[str, ...] = ("amp", "onset", "bass", "mid", "treble")
ANALYSIS_VERSION = 2
CACHE_ENV = "DEFORUM_AUDIO_CACHE"
INSTALL_HINT = "install the audio extra: pip install -r requirements-audio.txt (librosa)"


class AudioError(DeforumError, ValueError):
    """Audio that cannot be decoded or analysed; the message names the setting and the fix."""


@dataclass(frozen=True, eq=False)
class AudioAnalysis:
    """One file's analysis at one frame rate: per-frame features (float64, 0–1), tempo (BPM) and beat frames."""

    fps: float
    duration: float
    tempo: float
    beat_frames: tuple[int, ...]
    features: dict[str, np.ndarray]

    @property
    def frame_count(self) -> int:
        """Number of video frames the audio covers."""
        return len(self.features["amp"])


def librosa_module() -> ModuleType:
    """librosa, imported on first use (an optional extra); AudioError with the install command when absent."""
    try:
        import librosa
    except ImportError as exc:
        raise AudioError(f"Audio analysis needs librosa, which is not installed. Fix: {INSTALL_HINT}.") from exc
    return librosa


@contextmanager
def numba_compile_lock() -> Iterator[None]:
    """Hold a per-user file lock while librosa runs: numba compiles its beat tracker into a shared on-disk cache on
    first use, and two processes writing that cache at once corrupt it (the next render then crashes)."""
    from filelock import FileLock

    with FileLock(os.path.join(tempfile.gettempdir(), f"deforum-librosa-{os.getuid()}.lock")):
        yield


def decode_audio(path: str, *, sample_rate: int = SAMPLE_RATE, ffmpeg: str | None = None) -> np.ndarray:
    """Mono float32 samples of the first audio track of `path` at `sample_rate`, decoded by ffmpeg (shape (n,))."""
    if not os.path.isfile(path):
        raise AudioError(f"Setting 'audio_path': {path} does not exist. Fix: point it at a local audio or video file.")
    try:
        command = [ffmpeg_path(ffmpeg), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path,
                   "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "pipe:1"]
    except VideoError as exc:
        raise AudioError(f"Setting 'audio_path': {exc}") from exc
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if result.returncode != 0:
        said = result.stderr.decode("utf-8", errors="replace").strip()[-400:] or "(no output)"
        raise AudioError(f"Setting 'audio_path': ffmpeg could not decode {path} (exit {result.returncode}): {said}. "
                         "Fix: use a file with an audio track (wav, mp3, m4a, or a video with sound).")
    samples = np.frombuffer(result.stdout, dtype="<f4").astype(np.float32)
    if samples.size == 0:
        raise AudioError(f"Setting 'audio_path': {path} has no audio samples. Fix: use a file with sound.")
    return samples


def frame_means(values: np.ndarray, times: np.ndarray, fps: float, frame_count: int) -> np.ndarray:
    """Mean of `values` sampled at `times` (s) inside each video frame [i/fps, (i+1)/fps) (shape (frame_count,))."""
    index = np.clip(np.floor(np.asarray(times) * fps).astype(np.int64), 0, frame_count - 1)
    sums = np.bincount(index, weights=np.asarray(values, dtype=np.float64), minlength=frame_count)
    counts = np.bincount(index, minlength=frame_count)
    means = np.divide(sums, counts, out=np.zeros(frame_count), where=counts > 0)
    empty = counts == 0
    if empty.any():
        filled = np.flatnonzero(~empty)
        means[empty] = np.interp(np.flatnonzero(empty), filled, means[filled])
    return means


def normalise(values: np.ndarray) -> np.ndarray:
    """Scale to 0–1 by the maximum (all zeros stay zeros) (shape of values)."""
    values = np.clip(np.asarray(values, dtype=np.float64), 0.0, None)
    peak = float(values.max()) if values.size else 0.0
    return values / peak if peak > 0 else np.zeros_like(values)


def band_energies(power: np.ndarray, frequencies: np.ndarray) -> dict[str, np.ndarray]:
    """Summed power per band of an STFT power spectrogram (shape (bins, hops)) → {band: (hops,)}."""
    return {name: power[(frequencies >= low) & (frequencies < high)].sum(axis=0)
            for name, (low, high) in BANDS.items()}


def analyse_samples(samples: np.ndarray, sample_rate: int, fps: float) -> AudioAnalysis:
    """Per-frame features, tempo and beat frames of mono samples (shape (n,)) at `fps` video frames per second.

    Frame i covers the time [i/fps, (i+1)/fps): features average over it, and a beat belongs to the frame it falls in.
    """
    if fps <= 0:
        raise AudioError(f"Setting 'fps': {fps} is not a positive frame rate. Fix: use e.g. 15.")
    with numba_compile_lock():
        return _analyse(librosa_module(), np.asarray(samples, dtype=np.float32), sample_rate, fps)


def _analyse(librosa: ModuleType, y: np.ndarray, sample_rate: int, fps: float) -> AudioAnalysis:
    """analyse_samples' work on float32 mono samples (shape (n,)), under the compile lock."""
    duration = len(y) / sample_rate
    frame_count = max(1, int(np.ceil(duration * fps)))
    power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH)) ** 2
    times = librosa.frames_to_time(np.arange(power.shape[1]), sr=sample_rate, hop_length=HOP_LENGTH)
    rms = librosa.feature.rms(S=np.sqrt(power), frame_length=N_FFT, hop_length=HOP_LENGTH)[0]
    onset = librosa.onset.onset_strength(S=librosa.power_to_db(power), sr=sample_rate)
    raw = {"amp": rms, "onset": onset[: len(times)],
           **band_energies(power, librosa.fft_frequencies(sr=sample_rate, n_fft=N_FFT))}
    features = {name: normalise(frame_means(raw[name], times[: len(raw[name])], fps, frame_count))
                for name in FEATURE_NAMES}
    tempo, beat_times = tempo_and_beats(librosa, onset, sample_rate)
    beats = tuple(sorted({int(np.floor(time * fps)) for time in beat_times if time * fps < frame_count}))
    return AudioAnalysis(fps=float(fps), duration=duration, tempo=tempo, beat_frames=beats, features=features)


def tempo_and_beats(librosa: ModuleType, onset: np.ndarray, sample_rate: int) -> tuple[float, np.ndarray]:
    """Tempo (BPM, from a line fitted through the tracked beats) and beat times (s) of an onset envelope."""
    _, beat_hops = librosa.beat.beat_track(onset_envelope=onset, sr=sample_rate, hop_length=HOP_LENGTH)
    beat_times = librosa.frames_to_time(np.asarray(beat_hops), sr=sample_rate, hop_length=HOP_LENGTH)
    if len(beat_times) < 2:
        return 0.0, np.asarray(beat_times, dtype=np.float64)
    period = float(np.polyfit(np.arange(len(beat_times)), beat_times, 1)[0])
    return (60.0 / period if period > 0 else 0.0), np.asarray(beat_times, dtype=np.float64)


def default_cache_dir() -> Path:
    """$DEFORUM_AUDIO_CACHE, else the user cache folder's deforum/audio."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deforum" / "audio"


def file_digest(path: str) -> str:
    """SHA-256 of a file's content (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def analyse_file(path: str, fps: float, *, cache_dir: Path | None = None, ffmpeg: str | None = None) -> AudioAnalysis:
    """The analysis of an audio file at `fps`, read from the per-content cache or computed and stored there."""
    if path.lower().startswith(("http://", "https://")):
        raise AudioError(f"Setting 'audio_path': {path} is a web URL, but Deforum works offline. "
                         "Fix: download the file and set audio_path to the local copy.")
    if not os.path.isfile(path):
        raise AudioError(f"Setting 'audio_path': {path} does not exist. Fix: point it at a local audio or video file.")
    folder = cache_dir or default_cache_dir()
    cached = folder / f"{file_digest(path)}-{float(fps):g}fps-v{ANALYSIS_VERSION}.npz"
    if cached.is_file():
        logger.info("Audio analysis of %s read from the cache %s", path, cached)
        return _load(cached)
    analysis = analyse_samples(decode_audio(path, ffmpeg=ffmpeg), SAMPLE_RATE, fps)
    _store(analysis, cached)
    return analysis


def _store(analysis: AudioAnalysis, target: Path) -> None:
    """Write an analysis as .npz next to its final name, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp.npz")
    np.savez(temp, fps=analysis.fps, duration=analysis.duration, tempo=analysis.tempo,
             beat_frames=np.asarray(analysis.beat_frames, dtype=np.int64), **analysis.features)
    os.replace(temp, target)


def _load(source: Path) -> AudioAnalysis:
    """Read an analysis stored by _store."""
    with np.load(source) as data:
        return AudioAnalysis(fps=float(data["fps"]), duration=float(data["duration"]), tempo=float(data["tempo"]),
                             beat_frames=tuple(int(v) for v in data["beat_frames"]),
                             features={name: np.asarray(data[name], dtype=np.float64) for name in FEATURE_NAMES})
