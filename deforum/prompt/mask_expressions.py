"""Composable mask expressions (mask_schedule, noise_mask_schedule): the recursive-descent parser (pure text).

Operands: ``{name}`` (a named mask: everywhere, video_mask, init_mask, …), ``[file path]`` (a mask image file) and
``<words>`` (a CLIPSeg word mask). Operators, tightest first: ``!`` invert, ``&`` and, ``|`` or, ``^`` xor,
``\\`` difference (a and not b); binary operators group left to right; ``( )`` group. Text is only ever tokenized
and matched against this grammar: nothing in it is evaluated as code.

Evaluating an expression over images is `core.mask_compose.compose_mask`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from deforum.models.errors import DeforumError

MAX_EXPRESSION_LENGTH = 2000
MAX_OPERANDS = 100
MAX_NESTING = 32
EVERYWHERE = "everywhere"
CLIPSEG_MODEL = "CIDAS/clipseg-rd64-refined"
CLIPSEG_FOLDER = "models/Deforum/clipseg-rd64-refined"

WordMasker = Callable[[np.ndarray, str], np.ndarray]

_OPERANDS = {"{": ("name", "}"), "[": ("file", "]"), "<": ("word", ">")}
_SYMBOLS = frozenset("!&|^\\()")
_BINARY_LEVELS = ("\\", "^", "|", "&")
_SYNTAX = "write masks as {name}, [file.png] or <words>, joined by ! & | ^ \\ and ( )"


class MaskExpressionError(DeforumError, ValueError):
    """A mask expression that cannot be read or evaluated; `position` is 1-based in the text."""

    def __init__(self, reason: str, *, position: int | None = None, fix: str = _SYNTAX) -> None:
        self.reason = reason.rstrip(".")
        self.position = position
        self.fix = fix
        where = f" at character {position}" if position is not None else ""
        super().__init__(f"Mask expression: {self.reason}{where}. Fix: {fix}.")


@dataclass(frozen=True)
class Operand:
    """A leaf: kind is "name", "file" or "word"; text is the name, path or words."""

    kind: str
    text: str
    position: int


@dataclass(frozen=True)
class Invert:
    """``!operand``."""

    operand: MaskNode
    position: int


@dataclass(frozen=True)
class Binary:
    """``left op right`` with op one of & | ^ \\."""

    op: str
    left: MaskNode
    right: MaskNode
    position: int


MaskNode = Operand | Invert | Binary


@dataclass(frozen=True)
class _Token:
    """One token: an operand kind or a symbol, its text and 1-based position."""

    kind: str
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    """Split the text into operands and symbols; anything else is an error naming its position."""
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char in _OPERANDS:
            kind, closer = _OPERANDS[char]
            end = text.find(closer, index + 1)
            if end < 0:
                raise MaskExpressionError(f"{char!r} is never closed", position=index + 1,
                                          fix=f"close it with {closer!r}")
            tokens.append(_operand_token(kind, text[index + 1:end], index + 1))
            index = end + 1
        elif char in _SYMBOLS:
            tokens.append(_Token(char, char, index + 1))
            index += 1
        else:
            raise MaskExpressionError(f"unexpected character {char!r}", position=index + 1)
    return tokens


def _operand_token(kind: str, content: str, position: int) -> _Token:
    """An operand token; names are stripped and must not be empty."""
    text = content.strip() if kind != "word" else content
    if not text.strip():
        empty = {"name": "{}", "file": "[]", "word": "<>"}[kind]
        raise MaskExpressionError(f"empty {empty}", position=position, fix="put a mask name, file path or words inside")
    return _Token(kind, text, position)


class _Parser:
    """Recursive descent over the token list: one method per precedence level."""

    def __init__(self, tokens: list[_Token], length: int) -> None:
        self.tokens, self.index = tokens, 0
        self.end = _Token("end", "", length + 1)

    def peek(self) -> _Token:
        """The next token (an end marker after the last)."""
        return self.tokens[self.index] if self.index < len(self.tokens) else self.end

    def take(self) -> _Token:
        """Consume and return the next token."""
        token = self.peek()
        self.index += 1
        return token

    def expression(self, level: int = 0, nesting: int = 0) -> MaskNode:
        """Binary operators of `level` and tighter, grouped left to right."""
        if level == len(_BINARY_LEVELS):
            return self.unary(nesting)
        node = self.expression(level + 1, nesting)
        while self.peek().kind == _BINARY_LEVELS[level]:
            operator = self.take()
            node = Binary(operator.text, node, self.expression(level + 1, nesting), operator.position)
        return node

    def unary(self, nesting: int) -> MaskNode:
        """Any number of ``!`` (an odd count inverts) before an operand or a group."""
        bangs = []
        while self.peek().kind == "!":
            bangs.append(self.take())
        node = self.primary(nesting)
        return Invert(node, bangs[0].position) if len(bangs) % 2 else node

    def primary(self, nesting: int) -> MaskNode:
        """An operand, or a parenthesised expression."""
        token = self.take()
        if token.kind in ("name", "file", "word"):
            return Operand(token.kind, token.text, token.position)
        if token.kind == "(":
            if nesting >= MAX_NESTING:
                raise MaskExpressionError(f"brackets are nested more than {MAX_NESTING} deep",
                                          position=token.position, fix="simplify the expression")
            node = self.expression(0, nesting + 1)
            closing = self.take()
            if closing.kind != ")":
                raise MaskExpressionError(f"the '(' at character {token.position} is not closed: found "
                                          f"{_describe(closing)}", position=closing.position, fix="add ')'")
            return node
        raise MaskExpressionError(f"expected a mask or '(' but found {_describe(token)}", position=token.position)


def _describe(token: _Token) -> str:
    """How an error message names a token."""
    if token.kind == "end":
        return "the end of the expression"
    if token.kind in ("name", "file", "word"):
        return f"the mask {token.text!r:.40}"
    return repr(token.text)


def parse_mask_expression(text: str) -> MaskNode:
    """The syntax tree of a mask expression; empty text means {everywhere}."""
    if not isinstance(text, str):
        raise MaskExpressionError(f"expected text, got {type(text).__name__}", fix="write the expression as text")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise MaskExpressionError(f"the expression is {len(text)} characters long, the limit is "
                                  f"{MAX_EXPRESSION_LENGTH}", fix="shorten it")
    return _parse(text)


@lru_cache(maxsize=512)
def _parse(text: str) -> MaskNode:
    """Cached parse of text of bounded length."""
    tokens = _tokenize(text)
    if not tokens:
        return Operand("name", EVERYWHERE, 1)
    operands = [token for token in tokens if token.kind in ("name", "file", "word")]
    if len(operands) > MAX_OPERANDS:
        raise MaskExpressionError(f"more than {MAX_OPERANDS} masks", position=operands[MAX_OPERANDS].position,
                                  fix="split the expression")
    parser = _Parser(tokens, len(text))
    tree = parser.expression()
    if parser.peek().kind != "end":
        token = parser.peek()
        raise MaskExpressionError(f"expected an operator (& | ^ \\) but found {_describe(token)}",
                                  position=token.position)
    return tree


def operands(text: str) -> tuple[Operand, ...]:
    """Every operand of an expression, left to right."""
    found: list[Operand] = []
    stack: list[MaskNode] = [parse_mask_expression(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, Operand):
            found.append(node)
        elif isinstance(node, Invert):
            stack.append(node.operand)
        else:
            stack.extend((node.right, node.left))
    return tuple(found)


def file_references(text: str) -> tuple[str, ...]:
    """The file paths an expression reads (its ``[…]`` operands)."""
    return tuple(item.text for item in operands(text) if item.kind == "file")


def check_mask_expression(text: str, names: Iterable[str] | None = None) -> None:
    """Raise MaskExpressionError if the text does not parse, or (given `names`) uses a name not among them."""
    if names is None:
        operands(text)
        return
    known = {*names, EVERYWHERE}
    for item in operands(text):
        if item.kind == "name" and item.text not in known:
            raise unknown_name(item, known)


def unknown_name(item: Operand, known: Iterable[str]) -> MaskExpressionError:
    """The error for a {name} that is not a known mask."""
    listed = ", ".join("{" + name + "}" for name in sorted(known))
    return MaskExpressionError(f"unknown mask {{{item.text:.40}}}", position=item.position,
                               fix=f"use one of {listed}, a [file path] or <words>")


def clipseg_message(words: str) -> str:
    """Why a word mask cannot be made here, and where CLIPSeg's weights go."""
    return (f"the word mask <{words:.40}> needs CLIPSeg, which is not loaded in this render. Put the "
            f"transformers-format model {CLIPSEG_MODEL} in {CLIPSEG_FOLDER}/ (or $DEFORUM_MODELS_DIR/Deforum/"
            "clipseg-rd64-refined/); the render command loads it when a mask schedule uses <words>")
