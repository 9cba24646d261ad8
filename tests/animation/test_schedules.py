"""Numeric and string schedules: the original's values, its crashes fixed, clear errors, vectorized output."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numexpr
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deforum.animation.schedule_cli import run_schedule_command
from deforum.animation.schedules import (
    ScheduleError,
    evaluate_schedule,
    evaluate_string_schedule,
    format_schedule,
    parse_schedule,
    parse_string_schedule,
)


def values(text: str, frames: int, seed: int = -1) -> list[float]:
    """The schedule's values as a plain list for readable comparisons."""
    return evaluate_schedule(text, frames, seed=seed).tolist()


# --- the original's semantics -------------------------------------------------------------------------------

def test_numeric_keyframes_interpolate_linearly_and_hold_after_the_last() -> None:
    assert values("0:(0), 4:(1)", 7) == [0, 0.25, 0.5, 0.75, 1, 1, 1]


def test_numeric_segment_interpolates_toward_the_next_expression_value() -> None:
    assert values("0:(2), 5:(t*10)", 8) == pytest.approx([2, 11.6, 21.2, 30.8, 40.4, 50, 60, 70])


def test_expression_segment_followed_by_a_number_jumps() -> None:
    assert values("0:(t), 5:(2)", 8) == [0, 1, 2, 3, 4, 2, 2, 2]


def test_expression_is_evaluated_at_every_frame_until_the_next_keyframe() -> None:
    assert values("0:(t), 3:(t*10), 5:(1), 7:(3)", 9) == [0, 1, 2, 30, 40, 1, 2, 3, 3]


def test_single_keyframe_holds_for_every_frame() -> None:
    assert values("0: (0.65)", 4) == [0.65] * 4


def test_duplicate_keys_last_wins() -> None:
    assert values("0:(1), 0:(5)", 2) == [5, 5]
    assert values('0:(0), 5:(1), "max_f-4":(7)', 10)[5] == 7


def test_keys_outside_the_frames_are_ignored() -> None:
    assert values("0:(0), 20:(100)", 5) == [0] * 5
    assert values("-5:(3), 2:(1)", 4) == [1] * 4


def test_first_keyframe_after_zero_holds_backward() -> None:
    assert values("3:(6), 5:(2)", 7) == [6, 6, 6, 6, 4, 2, 2]
    assert values("2:(t*10)", 4) == [20, 20, 20, 30]


def test_expression_keys_use_max_f_and_seed_and_truncate() -> None:
    assert values('0:(0), "max_f-2":(-1)', 5) == [0, -0.5, -1, -1, -1]
    assert values("0:(0), 'max_f/2':(9)", 10)[4] == 9  # max_f/2 = 4.5 -> frame 4
    assert values("0:(0), max_f:(1)", 3) == [0, 0.5, 1]
    assert values("0:(0), s:(1)", 5, seed=2) == [0, 0.5, 1, 1, 1]


def test_float_keys_truncate_instead_of_crashing() -> None:
    assert values("0:(0), 2.7:(4)", 4) == [0, 2, 4, 4]


def test_seed_schedule_default_uses_the_seed() -> None:
    text = '0:(s), 1:(-1), "max_f-2":(-1), "max_f-1":(s)'
    assert values(text, 6, seed=77) == [77, -1, -1, -1, 77, 77]


def test_values_see_t_max_f_and_s() -> None:
    assert values("0: (t + max_f + s)", 3, seed=10) == [12, 13, 14]


def test_commas_inside_parentheses_trailing_commas_and_spaces() -> None:
    assert values("0: (where(t>2,1,0)) ,", 5) == [0, 0, 0, 1, 1]
    assert values("  0 :  ( 1 + maximum(t, 2) ) ,\n  3: (0) , , ", 4) == [3, 3, 3, 0]


def test_values_without_parentheses() -> None:
    assert values("0:1, 2:t", 4) == [1, 1.5, 2, 3]


def test_only_plain_numbers_interpolate_as_in_the_original() -> None:
    assert values("0: (0.5), 4: (1)", 5) == [0.5, 0.625, 0.75, 0.875, 1]
    assert values("0: ( 0.5 ), 4: (1)", 5) == [0.5, 0.5, 0.5, 0.5, 1]  # inner spaces: an expression
    assert values("0: (1e3), 4: (0)", 5) == [1000] * 4 + [0]  # e-notation: an expression
    assert values("0: (\"0.5\"), 4: ('1')", 5) == [0.5, 0.625, 0.75, 0.875, 1]  # quoted numbers are numbers
    assert values("0: (.5), 2: (+1.5), 4: (-2)", 5) == [0.5, 1, 1.5, -0.25, -2]


def test_output_is_float64_of_length_max_frames() -> None:
    result = evaluate_schedule("0: (where(t>1, 1, 0))", 10_000)
    assert result.dtype == np.float64 and result.shape == (10_000,)
    assert evaluate_schedule("0: (1)", 0).shape == (0,)


# --- string schedules ---------------------------------------------------------------------------------------

def test_string_schedule_holds_each_value() -> None:
    text = '0: ("Euler a"), 2: ("DPM++ 2M Karras")'
    assert evaluate_string_schedule(text, 4) == ("Euler a", "Euler a", "DPM++ 2M Karras", "DPM++ 2M Karras")


def test_string_schedule_keeps_quoted_text_verbatim() -> None:
    text = "0: (\"model (v2), final.ckpt\"), 'max_f': ('C:\\models\\x.ckpt')"
    assert evaluate_string_schedule(text, 3) == ("model (v2), final.ckpt",) * 2 + ("C:\\models\\x.ckpt",)


def test_string_schedule_first_key_after_zero_holds_backward_and_unquoted_values() -> None:
    assert evaluate_string_schedule("2: (Euler), 3: ({video_mask})", 4) == ("Euler",) * 3 + ("{video_mask}",)


def test_string_schedule_numbers_stay_text() -> None:
    assert evaluate_string_schedule('0: ("1"), 2: (2)', 3) == ("1", "1", "2")


def test_parse_string_schedule_checks_syntax() -> None:
    assert [key.value_text for key in parse_string_schedule('0: ("a"), 5: ("b")', "sampler_schedule")] == ["a", "b"]
    with pytest.raises(ScheduleError, match="Schedule 'sampler_schedule'.*quote"):
        parse_string_schedule('0: ("Euler a)', "sampler_schedule")


# --- errors -------------------------------------------------------------------------------------------------

def test_error_names_schedule_keyframe_position_and_allowed_names() -> None:
    with pytest.raises(ScheduleError) as caught:
        evaluate_schedule("0: (1), 5: (t*)", 10, name="zoom")
    error = caught.value
    assert (error.schedule_name, error.keyframe, error.position) == ("zoom", 2, 15)
    assert str(error).startswith("Schedule 'zoom', keyframe 2 (\"5: (t*)\"), character 15: invalid syntax.")
    assert "Allowed names: amp, bass, beat, beat_offset, bpm, fps, max_f, mid, onset, s, t, treble; functions: abs," \
        in str(error) and "Fix:" in str(error)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(("text", "keyframe", "position", "reason"), [
    ("0: (1), 5: (foo)", 2, 13, "unknown name 'foo'"),
    ("0: (1), x: (2)", 2, 9, "frame key: unknown name 'x'"),
    ("0: (1), 5 (2)", 2, 9, "no ':'"),
    ("0: (1", 1, 4, "'(' is never closed"),
    ("0: (1))", 1, 7, "')' has no matching"),
    ("0: ()", 1, 4, "empty"),
    ("0: ", 1, 3, "value after ':' is missing"),
    (": (1)", 1, 1, "frame number before ':' is missing"),
    ("0: (__import__('os'))", 1, 5, "calling '__import__' is not allowed"),
    ("0: (().__class__)", 1, 5, "attribute access"),
    ("0: (lambda: 1)", 1, 5, "lambda"),
    ("0: (9**9**9)", 1, 5, "too large"),
    ("0: (1" + "0" * 400 + ")", 1, 4, "too large"),
    ("0: (1e999)", 1, 5, "too large"),
    ("0: (nan)", 1, 5, "unknown name 'nan'"),
    ("0: (\"Euler a\")", 1, 5, "not a number"),
])
def test_bad_syntax_is_rejected_by_parse_schedule(text: str, keyframe: int, position: int, reason: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text, "angle")
    assert (caught.value.keyframe, caught.value.position) == (keyframe, position)
    assert reason in caught.value.reason


@pytest.mark.parametrize(("text", "frame"), [("0: (log(t))", 0), ("0: (1/(t-3))", 3), ("0: (sqrt(t-5))", 0),
                                             ("0: (t**400)", 6)])
def test_non_finite_values_are_errors_naming_the_frame(text: str, frame: int) -> None:
    with pytest.raises(ScheduleError, match=f"at frame {frame}") as caught:
        evaluate_schedule(text, 10, name="zoom")
    assert caught.value.keyframe == 1


@pytest.mark.parametrize("text", ["", "   ", ",,", "\n"])
def test_empty_schedule_is_an_error(text: str) -> None:
    with pytest.raises(ScheduleError, match="no keyframes"):
        parse_schedule(text, "zoom")


def test_no_keyframe_inside_the_frames_is_an_error() -> None:
    with pytest.raises(ScheduleError, match=r"no keyframe falls inside frames 0\.\.4"):
        evaluate_schedule("10: (1)", 5, name="zoom")


@pytest.mark.parametrize("frames", [-1, 2.5, True, 10**9])
def test_bad_frame_counts_are_errors(frames: object) -> None:
    with pytest.raises(ScheduleError, match="frame count"):
        evaluate_schedule("0: (1)", frames)  # type: ignore[arg-type]


def test_non_text_schedule_is_an_error() -> None:
    with pytest.raises(ScheduleError, match="must be text"):
        parse_schedule(None, "zoom")  # type: ignore[arg-type]


def test_one_megabyte_schedule_is_refused() -> None:
    """How fast: bench/bench_guards.py."""
    with pytest.raises(ScheduleError, match="limit"):
        evaluate_schedule("0: (1), " * 150_000, 10)


def test_hostile_schedules_have_no_side_effects(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for text in ("0: (__import__('os').system('touch canary'))", "__import__('os').system('touch canary'): (1)",
                 "0: (1), 1: (open('canary', 'w'))"):
        with pytest.raises(ScheduleError):
            evaluate_schedule(text, 5)
    assert not (tmp_path / "canary").exists()


# --- parse and format ---------------------------------------------------------------------------------------

def test_parse_schedule_returns_keyframes_without_a_frame_count() -> None:
    keys = parse_schedule('0: (1), "max_f-2": (t*2), 7: ( 3 )', "zoom")
    assert [(k.index, k.frame, k.frame_text, k.kind, k.number) for k in keys] == [
        (1, 0, "0", "number", 1.0), (2, None, "max_f-2", "expression", None), (3, 7, "7", "expression", None)]
    assert keys[1].text == '"max_f-2": (t*2)' and keys[1].value_text == "(t*2)"


def test_format_schedule_is_canonical() -> None:
    keys = parse_schedule("0:1, 'max_f':( t*2 ), 5:(0.00001)", "zoom")
    assert format_schedule(keys) == '0: (1), "max_f": (t*2), 5: (0.00001)'


EXPRESSIONS = st.sampled_from(["t", "t*2", "sin(t/10)", "where(t>3,1,0)", "max_f-t", "s+1", "(t%5)/2"])
NUMBERS = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 6))
KEYFRAME_LISTS = st.lists(st.tuples(st.integers(0, 60), st.one_of(NUMBERS, EXPRESSIONS)), min_size=1, max_size=8)


def _schedule_text(entries: list[tuple[int, float | str]]) -> str:
    """Schedule text from (frame, value) pairs, numbers written in positional notation."""
    return ", ".join(f"{frame}: ({np.format_float_positional(v, trim='-') if isinstance(v, float) else v})"
                     for frame, v in entries)


@settings(max_examples=60, deadline=None)
@given(KEYFRAME_LISTS)
def test_parse_format_round_trip(entries: list[tuple[int, float | str]]) -> None:
    first = parse_schedule(_schedule_text(entries), "zoom")
    again = parse_schedule(format_schedule(first), "zoom")
    assert [(k.frame, k.kind, k.number) for k in again] == [(k.frame, k.kind, k.number) for k in first]
    assert [k.value_text.strip("()") for k in again] == [k.value_text.strip("()") for k in first]
    np.testing.assert_array_equal(evaluate_schedule(format_schedule(first), 70, seed=3),
                                  evaluate_schedule(_schedule_text(entries), 70, seed=3))


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.integers(0, 999), NUMBERS, min_size=1, max_size=12))
def test_plain_number_fast_path_equals_the_general_parser(keys: dict[int, float]) -> None:
    text = _schedule_text(sorted(keys.items()))
    assert parse_schedule(text, "zoom") == parse_schedule(text + " ,\n", "zoom")  # the suffix forces the general path


# --- invariants and an independent per-frame reference ------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(0, 99), NUMBERS, min_size=1, max_size=10), st.integers(1, 120))
def test_numeric_keyframes_hit_their_values_and_are_piecewise_linear(keys: dict[int, float], frames: int) -> None:
    inside = sorted(frame for frame in keys if frame < frames)
    assume(inside)
    result = evaluate_schedule(_schedule_text(sorted(keys.items())), frames)
    for frame in inside:
        assert result[frame] == keys[frame]
    assert np.all(result[: inside[0]] == keys[inside[0]]) and np.all(result[inside[-1]:] == keys[inside[-1]])
    for left, right in zip(inside, inside[1:]):
        segment = result[left: right + 1]
        expected = np.linspace(keys[left], keys[right], right - left + 1)
        np.testing.assert_allclose(segment, expected, rtol=1e-9, atol=1e-6)


def reference_values(entries: list[tuple[int, float | str]], frames: int, seed: int) -> list[float]:
    """The original's algorithm, one frame at a time: numbers at keys, expressions per frame, then fill."""
    keys = dict(entries)
    series: list[float | None] = [None] * frames
    current: float | str | None = None
    for frame in range(frames):
        if frame in keys:
            current = keys[frame]
            if isinstance(current, float):
                series[frame] = current
        if isinstance(current, str):
            series[frame] = float(numexpr.evaluate(current, local_dict={"t": frame, "max_f": frames - 1, "s": seed}))
    known = [i for i, v in enumerate(series) if v is not None]
    if not known:
        return []
    series[0], series[-1] = series[known[0]], series[known[-1]]
    known = [i for i, v in enumerate(series) if v is not None]
    return list(np.interp(np.arange(frames), known, [series[i] for i in known]))


@settings(max_examples=80, deadline=None)
@given(KEYFRAME_LISTS, st.integers(1, 70), st.integers(0, 1000))
def test_vectorized_values_match_a_per_frame_reference(entries: list[tuple[int, float | str]], frames: int,
                                                        seed: int) -> None:
    entries = [(0, entries[0][1]), *entries[1:]]  # the original needs a keyframe at 0
    expected = reference_values(entries, frames, seed)
    np.testing.assert_allclose(values(_schedule_text(entries), frames, seed), expected, rtol=1e-9, atol=1e-9)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="0123456789:(),'\" tsmax_f+-*/%.<>&|~_[]{}=abcdeiolnprw\n", max_size=40))
def test_random_text_is_either_a_schedule_or_a_schedule_error(text: str) -> None:
    try:
        result = evaluate_schedule(text, 12, seed=5)
    except ScheduleError as error:
        assert str(error).startswith("Schedule 'schedule'")
    else:
        assert result.shape == (12,) and np.isfinite(result).all()


# --- command line and imports -------------------------------------------------------------------------------

def test_schedule_command_prints_json_values() -> None:
    assert json.loads(run_schedule_command("0:(1), 4:(5)", 5, -1)) == [1, 2, 3, 4, 5]
    assert json.loads(run_schedule_command("0:(s)", 2, 9)) == [9, 9]
    assert json.loads(run_schedule_command('0: ("Euler a"), 1: ("DDIM")', 3, -1)) == ["Euler a", "DDIM", "DDIM"]
    with pytest.raises(ScheduleError):
        run_schedule_command("0: (t*)", 3, -1)


def test_importing_schedules_loads_neither_torch_nor_cv2_nor_numexpr() -> None:
    code = ("import sys, deforum.animation.schedules, deforum.animation.keys; "
            "print(sorted(m for m in ('torch', 'cv2', 'numexpr', 'pandas') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_schedule_values_are_finite_math() -> None:
    result = evaluate_schedule("0: (1.0025+0.002*sin(1.25*3.14*t/30))", 3)
    assert result[2] == pytest.approx(1.0025 + 0.002 * math.sin(1.25 * 3.14 * 2 / 30))
