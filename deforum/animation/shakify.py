"""Camera Shakify: recorded camera shakes added on top of the 3D translation and rotation schedules."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from deforum.animation.keys import AnimationKeys

DATA_FILE = Path(__file__).with_name("shakify_data") / "shakes.json"
OFF_NAMES = ("", "NONE", "None")
AXES = ("x", "y", "z")
SCHEDULES = {
    "location": tuple(f"translation_{axis}" for axis in AXES),
    "rotation_euler": tuple(f"rotation_3d_{axis}" for axis in AXES),
}


@dataclass(frozen=True)
class Shake:
    """One recorded shake: per-axis location and rotation tables (3 × n, one row per axis) at `fps`."""

    key: str
    label: str
    fps: float
    tables: MappingProxyType

    @property
    def length(self) -> int:
        """Frames in one loop of the recording."""
        return int(next(iter(self.tables.values())).shape[1])


@functools.cache
def all_shakes() -> MappingProxyType:
    """Every shake of the Camera Shakify add-on by key (INVESTIGATION, ...), read once from the data file."""
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    shakes = {key: Shake(key, entry["label"], float(entry["fps"]), MappingProxyType(
        {kind: np.asarray(entry[kind], dtype=np.float64) for kind in SCHEDULES if kind in entry}))
        for key, entry in raw.items()}
    return MappingProxyType(shakes)


def shake_choices() -> dict[str, str]:
    """Key → label of every shake, NONE first (the fork's list)."""
    return {"NONE": "None", **{key: shake.label for key, shake in all_shakes().items()}}


def find_shake(name: str) -> Shake | None:
    """The shake a `shake_name` names (its key or its label); None for NONE; unknown names are an error."""
    text = (name or "").strip()
    if text in OFF_NAMES:
        return None
    for shake in all_shakes().values():
        if text in (shake.key, shake.label):
            return shake
    allowed = ", ".join(shake_choices())
    raise ValueError(f"Setting 'shake_name': {name!r} is not a Camera Shakify shake. Allowed: {allowed}.")


def shake_offsets(shake: Shake, max_frames: int, fps: float, intensity: float,
                  speed: float) -> dict[str, np.ndarray]:
    """Per-frame offsets (max_frames,) for each translation/rotation schedule: the looped table × intensity.

    Frame f reads the recording at f × speed × shake.fps / fps (linear between recorded frames, wrapping at the
    loop's end), as the add-on plays a shake at a speed; location values go to translation, rotation values to
    the rotation schedules, unchanged in size as the fork added them.
    """
    if fps <= 0:
        raise ValueError(f"Setting 'fps': {fps} must be above 0 for Camera Shakify.")
    times = np.arange(max_frames, dtype=np.float64) * float(speed) * shake.fps / float(fps)
    period = np.arange(shake.length, dtype=np.float64)
    offsets: dict[str, np.ndarray] = {}
    for kind, table in shake.tables.items():
        for schedule, row in zip(SCHEDULES[kind], table, strict=True):
            offsets[schedule] = np.interp(times, period, row, period=shake.length) * float(intensity)
    return offsets


def shaken_keys(keys: AnimationKeys, offsets: dict[str, np.ndarray]) -> AnimationKeys:
    """The keys with the offsets added to their schedules (read-only arrays, as build_keys makes them)."""
    series = dict(keys.series)
    for schedule, offset in offsets.items():
        if schedule in series:
            moved = series[schedule] + offset[: len(series[schedule])]
            moved.flags.writeable = False
            series[schedule] = moved
    return AnimationKeys(keys.max_frames, MappingProxyType(series), keys.strings)
