"""Composable mask expressions: grammar, precedence, operands, errors, limits; never evaluating code."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from deforum.core.mask_compose import compose_mask
from deforum.prompt.mask_expressions import (
    MAX_EXPRESSION_LENGTH,
    MAX_NESTING,
    MAX_OPERANDS,
    Binary,
    Invert,
    MaskExpressionError,
    Operand,
    check_mask_expression,
    file_references,
    operands,
    parse_mask_expression,
)

SIZE = (4, 2)
A = np.array([[255, 255, 0, 0], [255, 0, 255, 0]], np.uint8)
B = np.array([[255, 0, 255, 0], [255, 255, 0, 0]], np.uint8)
C = np.array([[0, 255, 255, 0], [255, 0, 0, 255]], np.uint8)
NAMED = {"a": A, "b": B, "c": C, "video_mask": A}
a, b, c = (m > 0 for m in (A, B, C))


def _mask(array: np.ndarray) -> np.ndarray:
    """Boolean → the 0/255 uint8 mask compose_mask returns."""
    return array.astype(np.uint8) * 255


def _compose(text: str, **kwargs) -> np.ndarray:
    """compose_mask over the hand-made masks."""
    return compose_mask(text, NAMED, SIZE, **kwargs)


@pytest.mark.parametrize(("text", "expected"), [
    ("{a}", a), ("!{a}", ~a), ("{a} & {b}", a & b), ("{a}|{b}", a | b), ("{a} ^ {b}", a ^ b),
    ("{a} \\ {b}", a & ~b), ("{everywhere}", np.ones_like(a)), ("!{everywhere}", np.zeros_like(a)),
    ("!!{a}", a), ("!!!{a}", ~a), ("!({a}|{b})", ~(a | b)), ("(({a}))", a), ("  {a}\t&\n{b} ", a & b),
])
def test_each_operator(text: str, expected: np.ndarray) -> None:
    result = _compose(text)
    assert result.dtype == np.uint8 and result.shape == (2, 4)
    assert np.array_equal(result, _mask(expected))


@pytest.mark.parametrize(("text", "expected"), [
    ("{a} & {b} | {c}", (a & b) | c), ("{a} | {b} & {c}", a | (b & c)), ("{a} ^ {b} | {c}", a ^ (b | c)),
    ("{a} \\ {b} ^ {c}", a & ~(b ^ c)), ("{a} ^ {b} \\ {c}", (a ^ b) & ~c), ("!{a} & {b}", ~a & b),
    ("{a} & !{b}", a & ~b), ("({a} | {b}) & {c}", (a | b) & c), ("{a} \\ {b} \\ {c}", a & ~b & ~c),
    ("{a} \\ {b} \\ {c} \\ {a}", a & ~b & ~c & ~a), ("{a} \\ ({b} \\ {c})", a & ~(b & ~c)),
    ("!({everywhere} ^ ({a} | {video_mask}))", a),
])
def test_precedence_and_grouping(text: str, expected: np.ndarray) -> None:
    assert np.array_equal(_compose(text), _mask(expected))


def test_tree_shape() -> None:
    tree = parse_mask_expression("!{a} & [m.png] | <cat>")
    assert tree == Binary("|", Binary("&", Invert(Operand("name", "a", 2), 1), Operand("file", "m.png", 8), 6),
                          Operand("word", "cat", 18), 16)


def test_empty_expression_is_everywhere() -> None:
    assert np.array_equal(_compose("   "), _mask(np.ones_like(a)))
    assert np.array_equal(compose_mask("", {}, SIZE), np.full((2, 4), 255, np.uint8))


def test_named_none_is_black_and_everywhere_can_be_given() -> None:
    assert np.array_equal(compose_mask("{video_mask} | {a}", {"video_mask": None, "a": A}, SIZE), A)
    assert np.array_equal(compose_mask("{everywhere}", {"everywhere": B}, SIZE), B)


def test_named_masks_are_resized_and_dithered() -> None:
    big = np.array(Image.fromarray(A).resize((8, 4), Image.NEAREST))
    assert np.array_equal(compose_mask("{a}", {"a": big}, SIZE), A)
    grey = np.full((2, 4), 128, np.uint8)
    expected = np.array(Image.fromarray(grey).convert("1")).astype(np.uint8) * 255
    assert np.array_equal(compose_mask("{g}", {"g": grey}, SIZE), expected)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(MaskExpressionError, match=r"unknown mask \{human_mask\} at character 9") as info:
        _compose("{a} & ( {human_mask})")
    assert "{video_mask}" in str(info.value) and "{everywhere}" in str(info.value)


def test_file_masks_from_tmp_files(tmp_path) -> None:
    path = tmp_path / "m.png"
    Image.fromarray(np.stack([B] * 3, axis=-1)).resize((8, 4), Image.NEAREST).save(path)
    assert np.array_equal(_compose(f"[{path}]"), B)
    assert np.array_equal(_compose("{a} & [" + str(path) + "]"), _mask(a & b))
    assert np.array_equal(_compose(f'["{path}"]'), B)


def test_file_masks_get_brightness_and_contrast(tmp_path) -> None:
    path = tmp_path / "white.png"
    Image.fromarray(np.full((2, 4, 3), 255, np.uint8)).save(path)
    dark = _compose(f"[{path}]", brightness=0.2)
    assert np.array_equal(dark, np.array(Image.fromarray(np.full((2, 4), 51, np.uint8)).convert("1")) * 255)
    assert not dark.all()


def test_missing_file_names_its_position(tmp_path) -> None:
    with pytest.raises(MaskExpressionError, match="at character 7") as info:
        _compose(f"{{a}} | [{tmp_path / 'missing.png'}]")
    assert "file not found" in str(info.value)


def test_word_masks_need_clipseg() -> None:
    with pytest.raises(MaskExpressionError, match="at character 7") as info:
        _compose("{a} & <a red cat>")
    message = str(info.value)
    assert "CLIPSeg" in message and "CIDAS/clipseg-rd64-refined" in message and "models/Deforum/clipseg" in message


def test_word_masks_with_a_masker() -> None:
    seen = []

    def masker(image: np.ndarray, words: str) -> np.ndarray:
        seen.append((image.shape, words))
        return np.array(Image.fromarray(C).resize((16, 8), Image.NEAREST))

    image = np.zeros((2, 4, 3), np.uint8)
    assert np.array_equal(_compose("<cat> & {a}", image=image, word_masker=masker), _mask(c & a))
    assert seen == [((2, 4, 3), "cat")]
    with pytest.raises(MaskExpressionError, match="needs the frame image"):
        _compose("<cat>", word_masker=masker)


@pytest.mark.parametrize(("text", "position", "words"), [
    ("{a", 1, "never closed"), ("{a} & [x.png", 7, "never closed"), ("{}", 1, "empty"), ("[ ]", 1, "empty"),
    ("{a} &", 6, "end of the expression"), ("& {a}", 1, "expected a mask"), ("{a} {b}", 5, "expected an operator"),
    ("({a}", 5, "not closed"), ("{a})", 4, "expected an operator"), ("()", 2, "expected a mask"),
    ("{a} + {b}", 5, "unexpected character '+'"), ("{a} & }", 7, "unexpected character"), ("!", 2, "end"),
    ("{a} && {b}", 6, "expected a mask"), ("__import__('os')", 1, "unexpected character"),
])
def test_syntax_errors_name_the_position(text: str, position: int, words: str) -> None:
    with pytest.raises(MaskExpressionError) as info:
        _compose(text)
    assert info.value.position == position
    assert f"at character {position}" in str(info.value) and words in str(info.value)


def test_limits() -> None:
    with pytest.raises(MaskExpressionError, match="limit"):
        parse_mask_expression("{a}|" * (MAX_EXPRESSION_LENGTH // 4) + "{a}")
    with pytest.raises(MaskExpressionError, match=f"more than {MAX_OPERANDS} masks"):
        parse_mask_expression("|".join(["{a}"] * (MAX_OPERANDS + 1)))
    with pytest.raises(MaskExpressionError, match="nested"):
        parse_mask_expression("(" * (MAX_NESTING + 1) + "{a}" + ")" * (MAX_NESTING + 1))
    assert parse_mask_expression("(" * MAX_NESTING + "{a}" + ")" * MAX_NESTING) == Operand("name", "a", MAX_NESTING + 1)
    assert np.array_equal(_compose("!" * 1001 + "{a}"), _mask(~a))
    with pytest.raises(MaskExpressionError, match="expected text"):
        parse_mask_expression(None)  # type: ignore[arg-type]


def test_references_and_checks() -> None:
    text = "[one.png] & ({a} | <dog>) \\ [two words.png]"
    assert file_references(text) == ("one.png", "two words.png")
    assert [item.kind for item in operands(text)] == ["file", "name", "word", "file"]
    check_mask_expression(text)
    check_mask_expression("{video_mask} | {everywhere}", names=["video_mask"])
    with pytest.raises(MaskExpressionError, match="unknown mask"):
        check_mask_expression("{init_mask}", names=["video_mask"])
    with pytest.raises(MaskExpressionError):
        check_mask_expression("{a} &")


# --- property tests -----------------------------------------------------------------------------------------

NAMES = ("a", "b", "c")
LEVEL = {"\\": 0, "^": 1, "|": 2, "&": 3}
OPS = {"&": np.logical_and, "|": np.logical_or, "^": np.logical_xor, "\\": lambda x, y: x & ~y}

trees = st.recursive(
    st.sampled_from(NAMES).map(lambda name: ("name", name)),
    lambda inner: st.one_of(
        inner.map(lambda node: ("!", node)),
        st.tuples(st.sampled_from(tuple(OPS)), inner, inner).map(lambda t: ("op", *t)),
    ),
    max_leaves=12,
)


def _render(node: tuple, parent: int = -1, right: bool = False) -> str:
    """Text of a tree with only the brackets precedence and left grouping need."""
    if node[0] == "name":
        return "{" + node[1] + "}"
    if node[0] == "!":
        inner = _render(node[1], 4)
        return "!" + (inner if node[1][0] in ("name", "!") else f"({inner})")
    level = LEVEL[node[1]]
    text = f"{_render(node[2], level)} {node[1]} {_render(node[3], level, right=True)}"
    return f"({text})" if level < parent or (level == parent and right) else text


def _value(node: tuple) -> np.ndarray:
    """The tree's mask, computed directly with numpy."""
    if node[0] == "name":
        return {"a": a, "b": b, "c": c}[node[1]]
    if node[0] == "!":
        return ~_value(node[1])
    return OPS[node[1]](_value(node[2]), _value(node[3]))


@settings(max_examples=150, deadline=None)
@given(trees)
def test_minimal_bracket_text_evaluates_like_the_tree(tree: tuple) -> None:
    assert np.array_equal(_compose(_render(tree)), _mask(_value(tree)))


ALPHABET = st.sampled_from(list("{}[]<>()!&|^\\ ab_.'\"/;:=+*-0123456789") + ["video_mask", "everywhere",
                                                                                "__import__", "os", "eval"])
texts = st.lists(ALPHABET, max_size=30).map("".join)
CODE = st.sampled_from([
    "__import__('os').system('true')", "{__class__}", "[__import__('os')]", "<lambda: 0>", "exec('1')",
    "{a}.__class__", "({a}) if 1 else ({b})", "eval('{a}')", "{a}; import os", "[/dev/zero]",
])

_watch = threading.local()
_FORBIDDEN = ("exec", "compile", "os.system", "subprocess.Popen", "os.posix_spawn", "os.exec", "os.spawn")


def _audit(event: str, _args: tuple) -> None:
    """Record code execution events raised while a test is watching."""
    if getattr(_watch, "events", None) is not None and event.startswith(_FORBIDDEN):
        _watch.events.append(event)


sys.addaudithook(_audit)


def _outcome(text: str) -> np.ndarray | MaskExpressionError:
    """compose_mask's result or its MaskExpressionError; code-execution audit events fail the test."""
    _watch.events = []
    try:
        return _compose(text)
    except MaskExpressionError as exc:
        return exc
    finally:
        events, _watch.events = _watch.events, None
        assert events == [], f"{text!r} raised audit events {events}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(texts, CODE, st.text(max_size=40)))
def test_random_text_never_runs_code_and_errors_name_a_position(text: str) -> None:
    outcome = _outcome(text)
    if isinstance(outcome, MaskExpressionError):
        assert outcome.position is not None and 1 <= outcome.position <= len(text) + 1
        assert f"at character {outcome.position}" in str(outcome)
    else:
        assert outcome.shape == (2, 4) and set(np.unique(outcome)) <= {0, 255}


@settings(max_examples=100, deadline=None)
@given(texts)
def test_parse_yields_only_grammar_nodes(text: str) -> None:
    try:
        tree = parse_mask_expression(text)
    except MaskExpressionError:
        return
    stack = [tree]
    while stack:
        node = stack.pop()
        assert type(node) in (Operand, Invert, Binary)
        if isinstance(node, Operand):
            assert node.kind in ("name", "file", "word") and isinstance(node.text, str)
        elif isinstance(node, Invert):
            stack.append(node.operand)
        else:
            assert node.op in "&|^\\"
            stack.extend((node.left, node.right))
