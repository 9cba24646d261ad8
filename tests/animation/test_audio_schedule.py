"""Feature values to a keyframe string: the string reproduces every frame, equal runs collapse, maps are safe."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deforum.animation.audio_schedule import MapError, feature_schedule, keyframe_frames, mapped_values
from deforum.animation.schedules import evaluate_schedule

FEATURES = st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]) | st.floats(0, 1), min_size=1, max_size=60)


@given(FEATURES)
def test_the_keyframe_string_reproduces_every_frame(values: list[float]) -> None:
    array = np.asarray(values)
    schedule = feature_schedule(array, "1 + 0.05*x")
    expected = np.round(1 + 0.05 * array, 4)
    np.testing.assert_allclose(evaluate_schedule(schedule, len(array)), expected, atol=1e-12)


def test_runs_of_equal_values_keep_only_their_ends() -> None:
    values = np.array([0, 0, 0, 1, 1, 1, 1, 0.5, 0, 0])
    assert keyframe_frames(values).tolist() == [0, 2, 3, 6, 7, 8, 9]
    assert feature_schedule(values) == "0:(0), 2:(0), 3:(1), 6:(1), 7:(0.5), 8:(0), 9:(0)"


def test_threshold_gates_small_values_and_t_is_the_frame() -> None:
    np.testing.assert_array_equal(mapped_values(np.array([0.05, 0.2, 0.5]), "x", 0.1), [0.0, 0.2, 0.5])
    np.testing.assert_array_equal(mapped_values(np.zeros(3), "t*2"), [0.0, 2.0, 4.0])


@pytest.mark.parametrize(("text", "reason"), [("x + y", "unknown name 'y'"), ("__import__('os')", "calling"),
                                              ("1/x", "gives inf at frame 0")])
def test_bad_maps_are_clear_errors(text: str, reason: str) -> None:
    with pytest.raises(MapError, match=reason):
        mapped_values(np.array([0.0, 1.0]), text)
