"""Integer arithmetic in expressions never reaches a native trap (SIGFPE) over the whole int64/int32 edge space."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deforum.animation.expressions import ExpressionError, evaluate, integer_safe_operation
from deforum.animation.schedules import evaluate_schedule
from deforum.prompt.schedule import build_prompt_schedule

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EDGES = [INT64_MIN, INT64_MIN + 1, -(2**31), -(2**31) + 1, -2, -1, 0, 1, 2, 31, 32, 63, 64, 2**31 - 1, 2**31,
         INT64_MAX - 1, INT64_MAX]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
EDGE_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EDGE_INTS = st.one_of(st.sampled_from(EDGES), st.integers(INT64_MIN, INT64_MAX))
LEAVES = st.one_of(st.sampled_from(["t", "u", "(t>u)", "(t*0-9223372036854775807-1)", "((t>u)*0-2147483647-1)",
                                    "(t*0-1)", "(u*0)"]),
                   st.sampled_from(EDGES).map(lambda k: f"({k})"), st.sampled_from(["0.5", "(-1.5)", "1e300"]))
BINARY = ["+", "-", "*", "/", "//", "%", "**", "&", "|", "^", "<", "==", ">="]
EXPRESSIONS = st.recursive(LEAVES, lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(BINARY), inner).map(lambda p: f"({p[0]}{p[1]}{p[2]})"),
    st.tuples(st.sampled_from(["-", "~"]), inner).map(lambda p: f"({p[0]}{p[1]})"),
    st.tuples(st.sampled_from(["abs", "floor", "sign", "sqrt"]), inner).map(lambda p: f"{p[0]}({p[1]})"),
    st.tuples(inner, inner, inner).map(lambda p: f"where({p[0]}>0, {p[1]}, {p[2]})"),
), max_leaves=6)


def _wrap(value: int) -> int:
    """A Python int wrapped to int64 two's complement, as numexpr's integer arithmetic wraps."""
    return (value - INT64_MIN) % 2**64 + INT64_MIN


def _c_remainder(a: int, b: int) -> int:
    """C's `a % b` (truncating), exact."""
    return abs(a) % abs(b) * (1 if a >= 0 else -1)


def _numexpr_modulo(a: int, b: int) -> int:
    """numexpr's documented int64 modulo, ((a % b) + b) % b in wrapping C arithmetic; 0 for b == 0."""
    return 0 if b == 0 else _c_remainder(_wrap(_c_remainder(a, b) + b), b)


def _numexpr_floor_division(a: int, b: int) -> int:
    """numexpr's int64 floor division: C's truncating quotient minus one when signs differ and inexact; 0 for b == 0."""
    if b == 0:
        return 0
    quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    return _wrap(quotient - (_c_remainder(a, b) != 0 and (a < 0) != (b < 0)))


@EDGE_SETTINGS
@given(expression=EXPRESSIONS, t=st.lists(EDGE_INTS, min_size=1, max_size=4), u=EDGE_INTS)
def test_any_integer_expression_returns_or_fails_clearly(expression: str, t: list[int], u: int) -> None:
    """Legal outcomes: a value (integers wrap as numexpr's do) or ExpressionError; never a crash."""
    try:
        evaluate(expression, {"t": np.array(t, dtype=np.int64), "u": u})
    except ExpressionError as err:
        assert str(err)


@EDGE_SETTINGS
@given(a=st.lists(EDGE_INTS, min_size=1, max_size=6), b=EDGE_INTS)
def test_floor_division_and_modulo_match_numexpr_arithmetic(a: list[int], b: int) -> None:
    left = np.array(a, dtype=np.int64)
    floor = evaluate("t // u", {"t": left, "u": b})
    modulo = evaluate("t % u", {"t": left, "u": b})
    expected_floor = [_numexpr_floor_division(x, b) for x in a]
    expected_modulo = [_numexpr_modulo(x, b) for x in a]
    assert np.asarray(floor).tolist() == expected_floor
    assert np.asarray(modulo).tolist() == expected_modulo


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_min_by_minus_one_is_wrapped_not_a_trap(dtype: type) -> None:
    low = np.array([np.iinfo(dtype).min, 7], dtype=dtype)
    minus_one = np.array([-1, -1], dtype=dtype)
    assert integer_safe_operation("%", low, minus_one).tolist() == [0, 0]
    assert integer_safe_operation("//", low, minus_one).tolist() == [np.iinfo(dtype).min, -7]
    assert integer_safe_operation("//", low, minus_one).dtype == dtype


def test_the_reported_prompt_renders_its_value() -> None:
    """Issue 20 item 1: this backtick killed the process with SIGFPE (exit 136)."""
    schedule = build_prompt_schedule({"0": "a `(t*0-9223372036854775807-1)%(t*0-1)`"}, 3)
    assert [positive for positive, _ in schedule] == ["a 0", "a 0", "a 0"]


def test_int32_booleans_in_prompts_do_not_trap() -> None:
    schedule = build_prompt_schedule({"0": "x `((t>3)*0-2147483647-1)//((t>3)*0-1)`"}, 2)
    assert schedule[0][0] == f"x {-(2**31)}"


@pytest.mark.parametrize("text", ["0: ((t*0-9223372036854775807-1)%(t*0-1))",
                                  "0: ((t*0-9223372036854775807-1)//(t*0-1))",
                                  "0: (((t>3)*0-2147483647-1)%((t>3)*0-1))"])
def test_schedules_with_integer_edges_give_values(text: str) -> None:
    values = evaluate_schedule(text, 5, name="angle")
    assert np.isfinite(values).all() and values.shape == (5,)


def test_integer_powers_with_negative_variable_exponents_follow_numexpr() -> None:
    values = evaluate("t ** (t*0-1)", {"t": np.array([-1, 0, 1, 3], dtype=np.int64)})
    assert values.tolist() == [-1, 0, 1, 0]


def test_frame_keys_with_integer_edges_do_not_trap() -> None:
    schedule = build_prompt_schedule({"0": "a", "(max_f*0-9223372036854775807-1)//(max_f*0-1)": "b"}, 3)
    assert [positive for positive, _ in schedule] == ["a", "a", "a"]
    values = evaluate_schedule("0: (2), (max_f*0-9223372036854775807-1)%(max_f*0-1): (1)", 3, name="zoom")
    assert values.tolist() == [1.0, 1.0, 1.0]
