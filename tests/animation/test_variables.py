"""Music variables in schedules and backtick prompts: fps, bpm, beat, beat_offset and audio features."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deforum.animation.keys import build_keys
from deforum.animation.schedules import ScheduleError, evaluate_schedule
from deforum.animation.variables import ScheduleVariables, beat_at, feature_at
from deforum.prompt.schedule import build_prompt_schedule


def test_beat_and_bpm_values_are_exact() -> None:
    music = ScheduleVariables(fps=15.0, bpm=120.0)
    values = evaluate_schedule("0: (beat)", 31, variables=music)
    np.testing.assert_array_equal(values, np.arange(31) * 120.0 / 900.0)
    assert values[15] == 2.0 and values[30] == 4.0
    np.testing.assert_array_equal(evaluate_schedule("0: (bpm + fps)", 3, variables=music), [135.0] * 3)
    offsets = evaluate_schedule("0: (beat_offset)", 16, variables=music)
    np.testing.assert_allclose(offsets, (np.arange(16) * 2 / 15) % 1.0, atol=1e-12)
    assert offsets[15] == 0.0


def test_beat_pulse_schedule_peaks_on_every_beat() -> None:
    music = ScheduleVariables(fps=24.0, bpm=90.0)  # 16 frames per beat
    zoom = evaluate_schedule("0: (1 + 0.1*(1 - beat_offset)**4)", 64, variables=music)
    assert list(np.flatnonzero(zoom == zoom.max())) == [0, 16, 32, 48]


def test_without_music_bpm_is_zero_and_fps_fifteen() -> None:
    np.testing.assert_array_equal(evaluate_schedule("0: (beat + bpm)", 4), [0.0] * 4)
    np.testing.assert_array_equal(evaluate_schedule("0: (fps)", 2), [15.0, 15.0])


@given(st.integers(0, 10_000), st.floats(1, 300), st.floats(1, 120))
def test_beat_is_frames_times_bpm_over_sixty_fps(frame: int, bpm: float, fps: float) -> None:
    beat = float(beat_at(np.array([frame]), bpm, fps)[0])
    assert beat == pytest.approx(frame * bpm / (60 * fps), rel=1e-12)
    offset = ScheduleVariables(fps=fps, bpm=bpm).at(np.array([frame]))["beat_offset"][0]
    assert 0.0 <= offset < 1.0


def test_audio_features_reach_schedules_and_read_zero_after_the_audio() -> None:
    bass = np.array([0.0, 0.5, 1.0, 0.25])
    music = ScheduleVariables(features=MappingProxyType({"bass": bass}))
    np.testing.assert_array_equal(evaluate_schedule("0: (1 + bass)", 6, variables=music),
                                  [1.0, 1.5, 2.0, 1.25, 1.0, 1.0])
    np.testing.assert_array_equal(feature_at(bass, np.array([-1, 3, 9])), [0.0, 0.25, 0.0])


def test_audio_name_without_audio_is_a_clear_error() -> None:
    with pytest.raises(ScheduleError, match="Schedule 'zoom'.*audio variable 'bass'.*set audio_path"):
        evaluate_schedule("0: (1 + bass)", 3, name="zoom")


def test_build_keys_and_backtick_prompts_use_the_same_variables() -> None:
    music = ScheduleVariables(fps=10.0, bpm=60.0, features=MappingProxyType({"onset": np.array([0.0, 1.0])}))
    keys = build_keys({"zoom": "0: (1 + beat)", "angle": "0: (onset*5)"}, 3, seed=1, variables=music)
    np.testing.assert_allclose(keys["zoom"], [1.0, 1.1, 1.2])
    np.testing.assert_array_equal(keys["angle"], [0.0, 5.0, 0.0])
    prompts = build_prompt_schedule({"0": "a cat :`beat*10`: `onset`"}, 3, variables=music)
    assert [positive for positive, _ in prompts] == ["a cat :0.0: 0.0", "a cat :1.0: 1.0", "a cat :2.0: 0.0"]


def test_music_names_are_not_frame_keys() -> None:
    with pytest.raises(ScheduleError, match="frame key.*'beat' is not available"):
        evaluate_schedule("0: (1), beat: (2)", 5, variables=ScheduleVariables(bpm=60.0))


@pytest.mark.parametrize(("fps", "bpm", "setting"), [(0.0, 60.0, "fps"), (15.0, -1.0, "bpm"),
                                                     (float("nan"), 60.0, "fps")])
def test_bad_fps_or_bpm_names_the_setting(fps: float, bpm: float, setting: str) -> None:
    with pytest.raises(ValueError, match=f"Setting '{setting}'"):
        ScheduleVariables(fps=fps, bpm=bpm)
