"""FramePlan: the original's cadence loop as data, without its lost tail."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deforum.core.plan import effective_cadence, plan_frames


def test_cadence_one_diffuses_every_frame() -> None:
    plan = plan_frames(5, 1)
    assert plan.diffused_frames == (0, 1, 2, 3, 4)
    assert plan.written_frames() == (0, 1, 2, 3, 4)
    assert all(s.tween_frames == () for s in plan.segments)


def test_cadence_three_with_ten_frames_writes_all_ten() -> None:
    plan = plan_frames(10, 3)
    assert plan.diffused_frames == (0, 3, 6, 9)
    assert plan.written_frames() == tuple(range(10))
    tail = plan.segments[-1]
    assert tail.key_frame is None and tail.tween_frames == (9,)


def test_tween_values_follow_the_original_formula() -> None:
    segment = plan_frames(10, 3).segments[2]
    assert segment.key_frame == 6 and segment.tween_frames == (3, 4, 5)
    assert [round(segment.tween_value(f), 6) for f in segment.tween_frames] == [0.333333, 0.666667, 1.0]


def test_first_segment_tweens_start_at_zero() -> None:
    segment = plan_frames(10, 3).segments[1]
    assert segment.key_frame == 3 and segment.tween_frames == (0, 1, 2)


def test_cadence_larger_than_the_animation() -> None:
    plan = plan_frames(4, 10)
    assert plan.diffused_frames == (0,)
    assert plan.written_frames() == (0, 1, 2, 3)


def test_resume_plan_starts_at_the_given_frame() -> None:
    plan = plan_frames(12, 3, start_frame=6)
    assert plan.diffused_frames == (6, 9)
    assert plan.written_frames() == tuple(range(6, 12))


def test_video_input_ignores_cadence() -> None:
    assert effective_cadence("Video Input", 4) == 1
    assert effective_cadence("3D", 4) == 4


def test_invalid_plans_are_refused() -> None:
    with pytest.raises(ValueError, match="Cannot plan 0 frames"):
        plan_frames(0, 1)


def test_describe_lists_every_segment() -> None:
    text = plan_frames(4, 2).describe()
    assert "diffuse 2 after tweens [0@0.50, 1@1.00]" in text and "tail" in text


@settings(max_examples=200, deadline=None)
@given(max_frames=st.integers(1, 400), cadence=st.integers(1, 60), start=st.integers(0, 50))
def test_every_frame_written_exactly_once(max_frames: int, cadence: int, start: int) -> None:
    start = min(start, max_frames - 1)
    plan = plan_frames(max_frames, cadence, start_frame=start)
    assert plan.written_frames() == tuple(range(start, max_frames))
    for segment in plan.segments:
        assert all(0 < segment.tween_value(f) <= 1 for f in segment.tween_frames)
