"""Per-frame prompts: shared prompts merged as the original, keys with max_f, backtick maths, --neg split."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deforum.prompt.schedule import PromptError, build_prompt_schedule, merge_shared_prompts, split_negative


def test_merge_shared_prompts_is_the_originals_text() -> None:
    merged = merge_shared_prompts({"0": "a cat", "5": "a dog --neg fur"}, "best", "ugly --neg")
    assert merged == {"0": "best a cat --neg ugly ", "5": "best a dog --neg fur  ugly "}
    assert merge_shared_prompts({"0": "x"}, "", "") == {"0": " x --neg "}


@pytest.mark.parametrize(("prompt", "expected"), [
    ("a cat", ("a cat", "")),
    ("  a cat --neg dog ", ("a cat", "dog")),
    ("a --neg b --neg c", ("a", "b  c")),
    ("--neg only", ("", "only")),
])
def test_split_negative(prompt: str, expected: tuple[str, str]) -> None:
    assert split_negative(prompt) == expected


def test_prompts_hold_forward_and_back_fill_before_the_first_key() -> None:
    schedule = build_prompt_schedule({"2": "b", "4": "c --neg n"}, 6)
    assert schedule == (("b", ""), ("b", ""), ("b", ""), ("b", ""), ("c", "n"), ("c", "n"))


def test_shared_prompts_are_merged_into_every_frame() -> None:
    schedule = build_prompt_schedule({"0": "cat", "2": "dog --neg fur"}, 3, positive="photo of", negative="blurry")
    assert schedule == (("photo of cat", "blurry"), ("photo of cat", "blurry"), ("photo of dog", "fur  blurry"))


def test_keys_may_use_max_f_and_expressions_and_truncate() -> None:
    schedule = build_prompt_schedule({"0": "a", "max_f": "z", "max_f/2": "m", "1+1.9": "b"}, 9)
    assert [positive for positive, _ in schedule] == ["a", "a", "b", "b", "m", "m", "m", "m", "z"]


def test_keys_outside_the_frames_are_ignored_unless_no_key_is_inside() -> None:
    assert build_prompt_schedule({"0": "a", "10": "late", "-3": "early"}, 3) == (("a", ""),) * 3
    assert build_prompt_schedule({"20": "late", "10": "later?", "-3": "early"}, 2) == (("later?", ""),) * 2
    assert build_prompt_schedule({"-3": "early"}, 2) == (("early", ""),) * 2


def test_duplicate_frames_last_key_wins() -> None:
    assert build_prompt_schedule({"2": "first", "1+1": "second", "0": "a"}, 3)[2] == ("second", "")


def test_backtick_maths_per_frame_with_t_and_max_f() -> None:
    schedule = build_prompt_schedule({"0": "cat:`1+t/10` `t*2` `max_f` --neg dog:`sqrt(t)`"}, 5)
    assert schedule[4] == ("cat:1.4 8 4", "dog:2.0")
    assert schedule[0] == ("cat:1.0 0 4", "dog:0.0")


def test_backticks_replace_only_the_identifier_t() -> None:
    schedule = build_prompt_schedule({"0": "`tan(t)` `sqrt(t)` `where(t>1, 1, 0)`"}, 3)
    assert schedule[2][0] == "-2.185039863261519 1.4142135623730951 1"


def test_backticks_in_shared_prompts_and_unpaired_backticks() -> None:
    schedule = build_prompt_schedule({"0": "cat `t` dog`"}, 2, positive="(w:`t+1`)")
    assert schedule[1] == ("(w:2) cat 1 dog`", "")
    assert build_prompt_schedule({"0": "it`s `t`"}, 2)[1] == ("it-1t`", "")  # pairs backticks left to right


def test_backticks_may_use_the_seed() -> None:
    assert build_prompt_schedule({"0": "`s`"}, 1, seed=77) == (("77", ""),)


def test_a1111_syntax_passes_through() -> None:
    text = "(word:1.2) [a:b:0.5] cat AND dog <lora:x:1> {a|b} --neg (bad:1.3)"
    assert build_prompt_schedule({"0": text}, 1) == (("(word:1.2) [a:b:0.5] cat AND dog <lora:x:1> {a|b}",
                                                      "(bad:1.3)"),)


def test_length_and_empty() -> None:
    assert len(build_prompt_schedule({"0": "a"}, 250)) == 250
    assert build_prompt_schedule({"0": "a"}, 0) == ()


@pytest.mark.parametrize(("prompts", "key", "match"), [
    ({"0": "a", "foo": "b"}, "foo", "unknown name 'foo'"),
    ({"0": "a", "__import__('os')": "b"}, "__import__('os')", "not allowed"),
    ({"0": "`__import__('os').system('x')`"}, "0", "not allowed"),
    ({"0": "`t*`"}, "0", "invalid syntax"),
    ({"0": "``"}, "0", "empty"),
    ({"0": 5}, "0", "not text"),
])
def test_errors_name_the_key(prompts: dict, key: str, match: str) -> None:
    with pytest.raises(PromptError, match=match) as caught:
        build_prompt_schedule(prompts, 3)
    assert caught.value.key == key and isinstance(caught.value, ValueError)


def test_non_finite_backticks_name_the_frame() -> None:
    with pytest.raises(PromptError, match="frame 2") as caught:
        build_prompt_schedule({"0": "`1/(t-2)`"}, 4)
    assert caught.value.frame == 2


def test_no_prompts_is_an_error() -> None:
    with pytest.raises(PromptError, match="no prompts"):
        build_prompt_schedule({}, 3)


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.integers(0, 30).map(str), st.text(alphabet="abc ,:()[]<>", max_size=12),
                       min_size=1, max_size=5), st.integers(1, 40))
def test_every_frame_gets_the_latest_keyframe_prompt(prompts: dict[str, str], frames: int) -> None:
    schedule = build_prompt_schedule(prompts, frames)
    inside = sorted(int(key) for key in prompts if int(key) < frames)
    for frame, (positive, negative) in enumerate(schedule):
        owner = max((key for key in inside if key <= frame), default=inside[0] if inside else None)
        if owner is not None:
            assert (positive, negative) == (prompts[str(owner)].strip(), "")
