"""Interpolation mode's prompt blending with the original's text and weights."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deforum.prompt.blend import blend_prompt_pair, build_interpolated_prompt_schedule, interpolated_prompt_texts
from deforum.prompt.schedule import PromptError


def test_blend_text_is_the_originals() -> None:
    text = blend_prompt_pair("a --neg x", "b --neg y", 0.25)
    assert text == " (a ):0.75 AND  (b ):0.25 --neg  ( x):0.75 AND  ( y):0.25"


def test_blend_skips_missing_halves_and_one_character_negatives() -> None:
    assert blend_prompt_pair("a --neg ", "b --neg  ", 0.5) == " (a ):0.5 AND  (b ):0.5 --neg  (  ):0.5"
    assert blend_prompt_pair("--neg x", "b", 0.5) == " (b):0.5 --neg  ( x):0.5"
    assert blend_prompt_pair("a", "b", 0.0) == " (a):1.0 AND  (b):0.0"


def test_frames_between_keys_blend_with_linear_weights() -> None:
    texts = interpolated_prompt_texts({"0": "cat", "3": "dog"}, 5)
    assert texts == ["cat", " (cat):0.6666666666666667 AND  (dog):0.3333333333333333",
                     " (cat):0.33333333333333337 AND  (dog):0.6666666666666666", "dog", "dog"]


def test_full_schedule_merges_splits_and_strips_a_trailing_neg() -> None:
    schedule = build_interpolated_prompt_schedule({"0": "cat", "4": "dog --neg bad"}, 5, negative="ugly")
    assert schedule[0] == ("cat", "ugly")
    assert schedule[1] == ("( cat ):0.75 AND  ( dog ):0.25", "( ugly):0.75 AND  ( bad  ugly):0.25")
    assert schedule[4] == ("dog", "bad  ugly")
    assert build_interpolated_prompt_schedule({"0": "cat", "2": "dog"}, 3)[1] == ("( cat ):0.5 AND  ( dog ):0.5", "")


def test_first_key_after_zero_holds_backward() -> None:
    assert interpolated_prompt_texts({"2": "a", "4": "b"}, 6)[:3] == ["a", "a", "a"]


def test_kept_quirk_max_f_is_max_frames_and_far_keys_still_steer() -> None:
    texts = interpolated_prompt_texts({"0": "a", "max_f": "b"}, 4)
    assert texts[3] == " (a):0.25 AND  (b):0.75"  # "max_f" is frame 4, one past the last frame
    schedule = build_interpolated_prompt_schedule({"0": "w:`max_f`"}, 4)
    assert schedule[0] == ("w:4", "")


def test_backticks_are_evaluated_per_frame_in_the_blend() -> None:
    schedule = build_interpolated_prompt_schedule({"0": "a:`t`", "2": "b:`sqrt(t)`"}, 3)
    assert schedule[1] == ("( a:1 ):0.5 AND  ( b:1.0 ):0.5", "")


def test_errors() -> None:
    with pytest.raises(PromptError, match="no prompts"):
        build_interpolated_prompt_schedule({}, 3)
    with pytest.raises(PromptError) as caught:
        build_interpolated_prompt_schedule({"0": "a", "bad key": "b"}, 3)
    assert caught.value.key == "bad key"
    assert build_interpolated_prompt_schedule({"0": "a"}, 0) == ()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 20), st.integers(1, 20))
def test_weights_sum_to_one_and_move_toward_the_next_prompt(start: int, gap: int) -> None:
    texts = interpolated_prompt_texts({str(start): "a", str(start + gap): "b"}, start + gap + 1)
    previous = -1.0
    for frame in range(start + 1, start + gap):
        current_weight, next_weight = (float(part.split(":")[1].split(" ")[0]) for part in texts[frame].split("AND"))
        assert current_weight + next_weight == pytest.approx(1.0)
        assert next_weight > previous
        previous = next_weight
    assert texts[start] == "a" and texts[start + gap] == "b"
