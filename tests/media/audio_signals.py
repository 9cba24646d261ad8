"""Generated test audio: a click track at a known tempo, a sine sweep, band-limited noise bursts."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

SR = 22050


def click_track(bpm: float, seconds: float, offset: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """(samples (n,), click times (s)): 10 ms 1 kHz clicks every 60/bpm seconds from `offset`."""
    samples = np.zeros(int(SR * seconds), np.float32)
    times = np.arange(offset, seconds - 0.05, 60.0 / bpm)
    length = int(0.01 * SR)
    click = np.hanning(length) * np.sin(2 * np.pi * 1000 * np.arange(length) / SR)
    for time in times:
        start = int(time * SR)
        samples[start:start + length] += click.astype(np.float32)
    return samples, times


def sine_sweep(seconds: float, start_hz: float = 50.0, end_hz: float = 8000.0) -> np.ndarray:
    """A logarithmic sine sweep from start_hz to end_hz at constant amplitude 0.5 (shape (n,))."""
    t = np.arange(int(SR * seconds)) / SR
    rate = np.log(end_hz / start_hz) / seconds
    phase = 2 * np.pi * start_hz * (np.exp(rate * t) - 1) / rate
    return (0.5 * np.sin(phase)).astype(np.float32)


def band_noise(seconds: float, low: float, high: float, rng: np.random.Generator) -> np.ndarray:
    """White noise filtered to [low, high) Hz in the frequency domain, peak 0.5 (shape (n,))."""
    spectrum = np.fft.rfft(rng.standard_normal(int(SR * seconds)))
    frequencies = np.fft.rfftfreq(int(SR * seconds), 1 / SR)
    spectrum[(frequencies < low) | (frequencies >= high)] = 0
    noise = np.fft.irfft(spectrum, int(SR * seconds))
    return (0.5 * noise / np.abs(noise).max()).astype(np.float32)


def bursts(plan: list[tuple[float, float, float, float]], seconds: float) -> np.ndarray:
    """Silence with band-limited noise bursts (start s, length s, low Hz, high Hz) (shape (n,))."""
    rng = np.random.default_rng(7)
    samples = np.zeros(int(SR * seconds), np.float32)
    for start, length, low, high in plan:
        begin = int(start * SR)
        burst = band_noise(length, low, high, rng)
        samples[begin:begin + len(burst)] += burst
    return samples


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """16-bit mono WAV at SR."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SR)
        handle.writeframes(pcm.tobytes())
    return path
