"""Camera schedules to words: phrases for known schedules, intensity, and sensitivity that only adds detections."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deforum.animation.keys import build_keys
from deforum.animation.movement import (
    MOTION_AXES,
    STATIC_PHRASE,
    describe_motion,
    detect_movements,
    motion_intensity,
    speed_adverb,
)


def phrase(schedules: dict[str, str], frames: int = 60, start: int = 0, end: int | None = None, **kw) -> str:
    """The phrase for settings-style schedule strings over frames start..end-1."""
    keys = build_keys({"zoom": "0:(1)", **schedules}, frames, seed=1)
    return describe_motion(keys.series, start, frames if end is None else end, **kw).phrase


@pytest.mark.parametrize(("schedules", "expected"), [
    ({}, STATIC_PHRASE),
    ({"translation_x": "0:(1)"}, "camera pans right slowly"),
    ({"translation_x": "0:(-6)"}, "camera pans left quickly"),
    ({"translation_y": "0:(3)"}, "camera moves up"),
    ({"translation_z": "0:(-2)"}, "camera dollies backward"),
    ({"rotation_3d_x": "0:(0.1)"}, "camera tilts up slowly"),
    ({"rotation_3d_y": "0:(-1)"}, "camera turns left quickly"),
    ({"rotation_3d_z": "0:(0.5)"}, "camera rolls clockwise"),
    ({"angle": "0:(-0.5)"}, "camera rolls counter-clockwise"),
    ({"zoom": "0:(1.02)"}, "camera zooms in quickly"),
    ({"zoom": "0:(0.995)"}, "camera zooms out"),
    ({"translation_x": "0:(1), 29:(1), 30:(0)", "translation_z": "0:(0), 29:(0), 30:(3)"},
     "camera pans right slowly, then dollies forward"),
    ({"translation_x": "0:(1)", "translation_z": "0:(3)"}, "camera pans right slowly and dollies forward"),
    ({"translation_x": "0:(3*sin(t/3))"}, "camera sways left and right"),
])
def test_phrases_for_known_schedules(schedules, expected):
    assert phrase(schedules) == expected


def test_only_the_clip_frames_count():
    schedules = {"translation_x": "0:(2), 29:(2), 30:(0)", "rotation_3d_y": "0:(0), 29:(0), 30:(1)"}
    assert phrase(schedules, end=30) == "camera pans right"
    assert phrase(schedules, start=30) == "camera turns right quickly"


def test_angle_and_roll_in_the_same_direction_read_once():
    assert phrase({"angle": "0:(0.5)", "rotation_3d_z": "0:(0.5)"}) == "camera rolls clockwise"


def test_a_brief_twitch_is_not_a_movement():
    assert phrase({"translation_x": "0:(0), 9:(0), 10:(5), 11:(0)"}) == STATIC_PHRASE


def test_higher_sensitivity_detects_smaller_motion():
    schedules = {"translation_x": "0:(0.2)"}
    assert phrase(schedules) == STATIC_PHRASE
    assert phrase(schedules, sensitivity=2.0) == "camera pans right slowly"


def test_intensity_is_zero_for_a_still_camera_and_grows_with_motion():
    still = build_keys({"zoom": "0:(1)"}, 20, seed=1).series
    slow = build_keys({"zoom": "0:(1)", "translation_x": "0:(1)"}, 20, seed=1).series
    fast = build_keys({"zoom": "0:(1)", "translation_x": "0:(4)"}, 20, seed=1).series
    assert motion_intensity(still, 0, 20) == 0.0
    assert 0 < motion_intensity(slow, 0, 20) < motion_intensity(fast, 0, 20)
    assert motion_intensity(fast, 0, 20) == pytest.approx(4 / 3)


def test_speed_words():
    assert (speed_adverb(0.2), speed_adverb(1.0), speed_adverb(2.0)) == ("slowly", "", "quickly")


def test_sensitivity_must_be_positive():
    with pytest.raises(ValueError, match="sensitivity"):
        detect_movements({}, 0, 10, sensitivity=0)


def _covered(movements) -> set[tuple[str, int]]:
    """(axis, direction) pairs detected; a back-and-forth movement covers both directions."""
    return {(m.key, d) for m in movements for d in ((1, -1) if m.direction == 0 else (m.direction,))}


values = st.floats(min_value=-3, max_value=3, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), frames=st.integers(min_value=1, max_value=40),
       low=st.floats(min_value=0.05, max_value=4), factor=st.floats(min_value=1, max_value=10))
def test_raising_sensitivity_never_loses_a_detection(data, frames, low, factor):
    axes = data.draw(st.lists(st.sampled_from([axis.key for axis in MOTION_AXES]), min_size=1, max_size=4,
                              unique=True))
    series = {key: np.array(data.draw(st.lists(values, min_size=frames, max_size=frames))) for key in axes}
    if "zoom" in series:
        series["zoom"] = 1 + series["zoom"] / 100
    weak = detect_movements(series, 0, frames, sensitivity=low)
    strong = detect_movements(series, 0, frames, sensitivity=low * factor)
    assert _covered(weak) <= _covered(strong)
