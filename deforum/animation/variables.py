"""Music variables of schedules: `fps`, `bpm`, `beat`, `beat_offset` and per-frame audio features."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

TIME_NAMES: frozenset[str] = frozenset({"fps", "bpm", "beat", "beat_offset"})
AUDIO_FEATURES: tuple[str, ...] = ("amp", "onset", "bass", "mid", "treble")
AUDIO_NAMES: frozenset[str] = frozenset(AUDIO_FEATURES)
MUSIC_NAMES: frozenset[str] = TIME_NAMES | AUDIO_NAMES
DEFAULT_FPS = 15.0


@dataclass(frozen=True)
class ScheduleVariables:
    """What schedules read besides t, max_f and s: frame rate, tempo and audio features (one value per frame)."""

    fps: float = DEFAULT_FPS
    bpm: float = 0.0
    features: Mapping[str, np.ndarray] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        """Reject a frame rate or tempo that would make `beat` meaningless, and unknown feature names."""
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise ValueError(f"Setting 'fps': {self.fps} is not a positive frame rate. Fix: use e.g. 15.")
        if not np.isfinite(self.bpm) or self.bpm < 0:
            raise ValueError(f"Setting 'bpm': {self.bpm} is not a tempo. Fix: use 0 (unused) or e.g. 120.")
        unknown = set(self.features) - AUDIO_NAMES
        if unknown:
            raise ValueError(f"unknown audio features {sorted(unknown)}; known: {', '.join(AUDIO_FEATURES)}")

    def at(self, frames: np.ndarray) -> dict[str, float | np.ndarray]:
        """Every music variable at the given frames (1-D float64 arrays shaped like `frames`, or scalars)."""
        t = np.asarray(frames, dtype=np.float64)
        beat = beat_at(t, self.bpm, self.fps)
        values: dict[str, float | np.ndarray] = {
            "fps": float(self.fps), "bpm": float(self.bpm), "beat": beat, "beat_offset": beat - np.floor(beat),
        }
        for name, series in self.features.items():
            values[name] = feature_at(series, t)
        return values


def beat_at(t: np.ndarray, bpm: float, fps: float) -> np.ndarray:
    """The beat count at frames t, fractional: t·bpm/(60·fps) (shape of t)."""
    return np.asarray(t, dtype=np.float64) * float(bpm) / (60.0 * float(fps))


def feature_at(series: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per-frame feature values at frames t (shape of t); frames past the audio's end read 0 (silence)."""
    index = np.asarray(t, dtype=np.int64)
    inside = (index >= 0) & (index < len(series))
    out = np.zeros(index.shape, dtype=np.float64)
    out[inside] = np.asarray(series, dtype=np.float64)[index[inside]]
    return out


NO_MUSIC = ScheduleVariables()
