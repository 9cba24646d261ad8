"""Camera schedules to words: short English motion phrases and a motion-intensity value per clip (pure numpy).

Deforum's motion schedules are per-frame amounts (translation in pixels/units per frame, rotation and angle in
degrees per frame, zoom as a scale factor per frame), so a constant `translation_x: 0:(2)` is a steady pan. The
directions follow the 3D renderer: positive translation_x moves the camera right, translation_y up,
translation_z forward; positive rotation_3d_x tilts up, rotation_3d_y turns right, rotation_3d_z (and a positive
2D angle) rolls clockwise; zoom above 1 zooms in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

DETECTION_THRESHOLD = 0.1
MIN_ACTIVE_SHARE = 0.1
SIMULTANEOUS_SHARE = 0.25
MAX_MOVEMENTS = 4
SLOW_BELOW = 0.5
FAST_FROM = 1.5
STATIC_PHRASE = "static camera"


@dataclass(frozen=True)
class MotionAxis:
    """One camera schedule: its key, the per-frame amount read as moderate motion, and its words."""

    key: str
    reference: float
    positive: str
    negative: str
    oscillating: str
    neutral: float = 0.0
    logarithmic: bool = False


MOTION_AXES: tuple[MotionAxis, ...] = (
    MotionAxis("translation_x", 3.0, "pans right", "pans left", "sways left and right"),
    MotionAxis("translation_y", 3.0, "moves up", "moves down", "bobs up and down"),
    MotionAxis("translation_z", 3.0, "dollies forward", "dollies backward", "drifts forward and back"),
    MotionAxis("rotation_3d_x", 0.5, "tilts up", "tilts down", "tilts up and down"),
    MotionAxis("rotation_3d_y", 0.5, "turns right", "turns left", "turns left and right"),
    MotionAxis("rotation_3d_z", 0.5, "rolls clockwise", "rolls counter-clockwise", "rocks from side to side"),
    MotionAxis("angle", 0.5, "rolls clockwise", "rolls counter-clockwise", "rocks from side to side"),
    MotionAxis("zoom", 0.01, "zooms in", "zooms out", "zooms in and out", neutral=1.0, logarithmic=True),
)


@dataclass(frozen=True)
class Movement:
    """One detected motion in a clip: axis key, direction (+1, -1, 0 = back and forth), words and timing."""

    key: str
    direction: int
    words: str
    first_frame: int
    active_share: float
    speed: float

    @property
    def phrase(self) -> str:
        """The motion with its speed adverb, e.g. 'pans right slowly'."""
        adverb = speed_adverb(self.speed)
        return f"{self.words} {adverb}" if adverb else self.words


@dataclass(frozen=True)
class MotionSummary:
    """What the camera does in a clip: every detected movement, the phrase for the prompt, the intensity."""

    movements: tuple[Movement, ...]
    phrase: str
    intensity: float


def speed_adverb(speed: float) -> str:
    """'slowly' below 0.5 of the reference amount, 'quickly' from 1.5, nothing in between."""
    if speed < SLOW_BELOW:
        return "slowly"
    return "quickly" if speed >= FAST_FROM else ""


def normalised_rates(series: Mapping[str, np.ndarray], start: int, end: int) -> dict[str, np.ndarray]:
    """Each axis's per-frame amount in frames start..end-1 divided by its reference (absent schedules are 0)."""
    rates: dict[str, np.ndarray] = {}
    for axis in MOTION_AXES:
        values = np.asarray(series[axis.key], dtype=np.float64)[start:end] if axis.key in series \
            else np.full(max(end - start, 0), axis.neutral)
        if axis.logarithmic:
            amount = np.log(np.clip(values, 1e-6, None)) - math.log(axis.neutral)
        else:
            amount = values - axis.neutral
        rates[axis.key] = amount / axis.reference
    return rates


def motion_intensity(series: Mapping[str, np.ndarray], start: int, end: int) -> float:
    """Mean over the clip's frames of the length of the normalised motion vector (0 for a still camera)."""
    rates = normalised_rates(series, start, end)
    if end <= start:
        return 0.0
    stacked = np.stack(list(rates.values()))
    return float(np.mean(np.sqrt(np.sum(stacked**2, axis=0))))


def _axis_movements(axis: MotionAxis, rate: np.ndarray, threshold: float, start: int) -> list[Movement]:
    """The movements of one axis: one back-and-forth movement, or one per direction held long enough."""
    count = len(rate)
    minimum = max(1, math.ceil(MIN_ACTIVE_SHARE * count))
    active = np.abs(rate) >= threshold
    signs = np.sign(rate[active])
    moves: list[Movement] = []
    for direction, words in ((1, axis.positive), (-1, axis.negative)):
        hits = active & (np.sign(rate) == direction)
        if int(hits.sum()) >= minimum:
            first = start + int(np.argmax(hits))
            moves.append(Movement(axis.key, direction, words, first, float(hits.mean()),
                                  float(np.mean(np.abs(rate[hits])))))
    if len(moves) == 2 and int(np.count_nonzero(np.diff(signs))) >= 2:
        first = min(move.first_frame for move in moves)
        return [Movement(axis.key, 0, axis.oscillating, first, float(active.mean()),
                         float(np.mean(np.abs(rate[active]))))]
    return moves


def detect_movements(series: Mapping[str, np.ndarray], start: int, end: int, *,
                     sensitivity: float = 1.0) -> tuple[Movement, ...]:
    """Every movement in frames start..end-1, ordered by first frame; higher sensitivity detects smaller motion."""
    if not sensitivity > 0:
        raise ValueError(f"movement sensitivity must be above 0, got {sensitivity}")
    if end <= start:
        return ()
    threshold = DETECTION_THRESHOLD / sensitivity
    rates = normalised_rates(series, start, end)
    found = [move for axis in MOTION_AXES for move in _axis_movements(axis, rates[axis.key], threshold, start)]
    return tuple(sorted(found, key=lambda move: move.first_frame))


def _weight(move: Movement) -> float:
    """How much a movement matters: its speed times the share of the clip it lasts."""
    return move.speed * move.active_share


def _merge_same_words(movements: tuple[Movement, ...]) -> list[Movement]:
    """Keep one movement per phrase (a 2D angle and a 3D roll both read 'rolls clockwise'): the stronger one."""
    best: dict[str, Movement] = {}
    for move in movements:
        if move.words not in best or _weight(move) > _weight(best[move.words]):
            best[move.words] = move
    return sorted(best.values(), key=lambda move: move.first_frame)


def motion_phrase(movements: tuple[Movement, ...], clip_length: int) -> str:
    """'camera pans right slowly, then dollies forward': movements starting together are joined with 'and'."""
    moves = _merge_same_words(movements)
    if not moves:
        return STATIC_PHRASE
    strongest = sorted(moves, key=_weight, reverse=True)[:MAX_MOVEMENTS]
    kept = [move for move in moves if move in strongest]
    window = max(1, math.ceil(SIMULTANEOUS_SHARE * clip_length))
    groups: list[list[Movement]] = []
    for move in kept:
        if groups and move.first_frame - groups[-1][0].first_frame < window:
            groups[-1].append(move)
        else:
            groups.append([move])
    return "camera " + ", then ".join(" and ".join(move.phrase for move in group) for group in groups)


def describe_motion(series: Mapping[str, np.ndarray], start: int, end: int, *,
                    sensitivity: float = 1.0) -> MotionSummary:
    """Movements, prompt phrase and intensity of the camera schedules over frames start..end-1."""
    movements = detect_movements(series, start, end, sensitivity=sensitivity)
    return MotionSummary(movements, motion_phrase(movements, end - start), motion_intensity(series, start, end))
