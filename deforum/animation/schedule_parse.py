"""Syntax of `frame: (value), ...` schedules: keyframe splitting, number/expression/string values, errors."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from deforum.animation.expressions import ALLOWED_NAMES, ExpressionError, allowed_names_text, check_expression
from deforum.models.errors import DeforumError

KEY_NAMES: frozenset[str] = frozenset({"max_f", "s"})
MAX_SCHEDULE_LENGTH = 500_000
_CACHED_LENGTH = 20_000
_STRUCTURE = re.compile(r"""[()\[\]{},:'"]""")
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
_PLAIN_NUMBER = re.compile(_NUMBER + r"\n?")
_SIMPLE_ENTRY = re.compile(r"\s*(?P<frame>[0-9]+)\s*:\s*(?P<value>\((?P<number>" + _NUMBER + r")\))\s*(?:,|\Z)")
_SANITIZE = str.maketrans("", "", "'\"()")
_SYNTAX_FIX = 'write keyframes as frame: (value), e.g. 0: (1), 10: (0.5*sin(t/10)), "max_f": (2)'


class ScheduleError(DeforumError, ValueError):
    """A schedule that cannot be read or evaluated; `keyframe` and `position` (in the text) are 1-based."""

    def __init__(self, reason: str, *, schedule_name: str, keyframe: int | None = None,
                 keyframe_text: str | None = None, position: int | None = None, fix: str = "",
                 variables: frozenset[str] = ALLOWED_NAMES) -> None:
        self.schedule_name = schedule_name
        self.keyframe = keyframe
        self.keyframe_text = keyframe_text
        self.position = position
        self.reason = reason.rstrip(".")
        self.fix = fix or _SYNTAX_FIX
        where = f"Schedule '{schedule_name}'"
        if keyframe is not None:
            shown = keyframe_text if keyframe_text is None or len(keyframe_text) <= 60 else keyframe_text[:57] + "..."
            where += f", keyframe {keyframe} (\"{shown}\")"
        if position is not None:
            where += f", character {position}"
        super().__init__(f"{where}: {self.reason}. {allowed_names_text(variables)} Fix: {self.fix}.")


@dataclass(frozen=True)
class Keyframe:
    """One `frame: (value)` entry; `frame` is None when the key is an expression of max_f and s."""

    index: int
    text: str
    offset: int
    frame_text: str
    frame_offset: int
    frame: int | None
    kind: str
    value_text: str
    value_offset: int
    number: float | None

    def error(self, reason: str, fix: str = "", *, name: str, position: int | None = None) -> ScheduleError:
        """A ScheduleError located at this keyframe (at its value unless `position` is given)."""
        return ScheduleError(reason, schedule_name=name, keyframe=self.index, keyframe_text=self.text,
                             position=self.value_offset + 1 if position is None else position, fix=fix)


def is_plain_number(text: str) -> bool:
    """The original's test for a keyframe value that interpolates: digits, optional sign and decimals."""
    return _PLAIN_NUMBER.fullmatch(text) is not None


def parse_schedule(text: str, name: str = "schedule") -> tuple[Keyframe, ...]:
    """Check the syntax of a numeric schedule (no frame count needed) and return its keyframes."""
    return _parse(text, name, "numeric")


def parse_string_schedule(text: str, name: str = "schedule") -> tuple[Keyframe, ...]:
    """Check the syntax of a string schedule such as `0: ("Euler a")` and return its keyframes."""
    return _parse(text, name, "string")


def format_schedule(keyframes: Sequence[Keyframe]) -> str:
    """Canonical schedule text for keyframes: `0: (1), "max_f-2": (t*2), 5: ("Euler a")`."""
    return ", ".join(f"{_format_key(key)}: ({_format_value(key)})" for key in keyframes)


def format_number(value: float) -> str:
    """A float written so that it reads back as a plain (interpolating) number, never in e-notation."""
    return np.format_float_positional(value, trim="-")


def _format_key(key: Keyframe) -> str:
    """The frame part: a number, or a quoted expression."""
    return str(key.frame) if key.frame is not None else f'"{key.frame_text}"'


def _format_value(key: Keyframe) -> str:
    """The value part without its outer parentheses."""
    if key.kind == "number" and key.number is not None:
        return format_number(key.number)
    if key.kind == "expression":
        return unwrap_parentheses(key.value_text)
    quote = '"' if '"' not in key.value_text else "'"
    if quote in key.value_text:
        raise ValueError(f"cannot quote the string {key.value_text!r}: it holds both quote characters")
    return f"{quote}{key.value_text}{quote}"


def _parse(text: str, name: str, kind: str) -> tuple[Keyframe, ...]:
    """Parse with a cache for ordinary-sized texts."""
    if not isinstance(text, str):
        raise ScheduleError(f"the schedule must be text, not {type(text).__name__}", schedule_name=name)
    if len(text) > MAX_SCHEDULE_LENGTH:
        raise ScheduleError(f"the schedule is {len(text)} characters long, the limit is {MAX_SCHEDULE_LENGTH}",
                            schedule_name=name, fix="use fewer keyframes; values between keyframes interpolate")
    if len(text) <= _CACHED_LENGTH:
        return _parse_cached(text, name, kind)
    return _parse_uncached(text, name, kind)


@lru_cache(maxsize=2048)
def _parse_cached(text: str, name: str, kind: str) -> tuple[Keyframe, ...]:
    """Cached parse: schedules repeat across settings and renders."""
    return _parse_uncached(text, name, kind)


def _parse_uncached(text: str, name: str, kind: str) -> tuple[Keyframe, ...]:
    """Split at top-level commas, then parse each `frame: value` entry."""
    simple = _parse_simple(text) if kind == "numeric" else None
    if simple:
        return simple
    keyframes: list[Keyframe] = []
    for start, end, colon in _scan(text, name):
        if text[start:end].strip():
            keyframes.append(_keyframe(text, (start, end, colon), len(keyframes) + 1, name, kind))
    if not keyframes:
        raise ScheduleError("the schedule has no keyframes", schedule_name=name, position=1)
    return tuple(keyframes)


def _parse_simple(text: str) -> tuple[Keyframe, ...] | None:
    """Fast path for schedules made only of `frame: (number)` entries (e.g. exported per-frame values)."""
    keyframes: list[Keyframe] = []
    position = 0
    for match in _SIMPLE_ENTRY.finditer(text):
        number = float(match["number"])
        if match.start() != position or not math.isfinite(number):
            return None
        start, end = match.start("frame"), match.end("value")
        keyframes.append(Keyframe(len(keyframes) + 1, text[start:end], start, match["frame"], start,
                                  int(match["frame"]), "number", match["value"], match.start("value"), number))
        position = match.end()
    return tuple(keyframes) if keyframes and position == len(text) else None


def _scan(text: str, name: str) -> list[tuple[int, int, int | None]]:
    """(start, end, first top-level colon) of every comma-separated entry, checking brackets and quotes."""
    entries: list[tuple[int, int, int | None]] = []
    stack: list[tuple[str, int]] = []
    quote, quote_at, start, colon = "", 0, 0, None
    for match in _STRUCTURE.finditer(text):
        char, at = match.group(), match.start()
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote, quote_at = char, at
        elif char in "([{":
            stack.append((char, at))
        elif char in _CLOSERS:
            if not stack or stack[-1][0] != _CLOSERS[char]:
                raise _scan_error(text, name, entries, start, at, f"{char!r} has no matching opening bracket")
            stack.pop()
        elif not stack and char == ":" and colon is None:
            colon = at
        elif not stack and char == ",":
            entries.append((start, at, colon))
            start, colon = at + 1, None
    if quote:
        raise _scan_error(text, name, entries, start, quote_at, f"the quote {quote} is never closed")
    if stack:
        raise _scan_error(text, name, entries, start, stack[-1][1], f"{stack[-1][0]!r} is never closed")
    entries.append((start, len(text), colon))
    return entries


def _scan_error(text: str, name: str, entries: list[tuple[int, int, int | None]], start: int, at: int,
                reason: str) -> ScheduleError:
    """A bracket or quote error inside the entry that starts at `start`."""
    index = 1 + sum(1 for s, e, _ in entries if text[s:e].strip())
    shown = text[start:].lstrip()[:60]
    return ScheduleError(reason, schedule_name=name, keyframe=index, keyframe_text=shown, position=at + 1,
                         fix="balance every bracket and quote, e.g. 10: (sin(t))")


def _keyframe(text: str, entry: tuple[int, int, int | None], index: int, name: str, kind: str) -> Keyframe:
    """Parse one `frame: value` entry."""
    start, end, colon = entry
    lead = len(text[start:end]) - len(text[start:end].lstrip())
    shown, offset = text[start:end].strip(), start + lead
    if colon is None:
        raise ScheduleError("expected 'frame: (value)' but there is no ':'", schedule_name=name, keyframe=index,
                            keyframe_text=shown, position=offset + 1)
    frame_text, frame_offset = _stripped(text, offset, colon)
    value_text, value_offset = _stripped(text, colon + 1, end)
    located = _Located(name, index, shown)
    if not frame_text:
        raise located.error("the frame number before ':' is missing", colon + 1)
    if not value_text:
        raise located.error("the value after ':' is missing", colon + 2)
    frame_text, frame_offset = _unquoted(frame_text, frame_offset)
    frame = _frame_number(frame_text, frame_offset, located)
    if kind == "string":
        string = _string_value(value_text)
        return Keyframe(index, shown, offset, frame_text, frame_offset, frame, "string", string, value_offset, None)
    number = _number_value(value_text, value_offset, located)
    value_kind = "expression" if number is None else "number"
    return Keyframe(index, shown, offset, frame_text, frame_offset, frame, value_kind, value_text, value_offset,
                    number)


@dataclass(frozen=True)
class _Located:
    """Where an entry is, for its error messages."""

    name: str
    index: int
    text: str

    def error(self, reason: str, position: int, fix: str = "", variables: frozenset[str] = ALLOWED_NAMES
              ) -> ScheduleError:
        """A ScheduleError for this entry at a 1-based position of the schedule."""
        return ScheduleError(reason, schedule_name=self.name, keyframe=self.index, keyframe_text=self.text,
                             position=position, fix=fix, variables=variables)


def _stripped(text: str, start: int, end: int) -> tuple[str, int]:
    """text[start:end] without surrounding whitespace, and where it begins."""
    piece = text[start:end]
    return piece.strip(), start + len(piece) - len(piece.lstrip())


def _unquoted(text: str, offset: int) -> tuple[str, int]:
    """A frame key without one pair of surrounding quotes (`"max_f-2"` -> `max_f-2`)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        inner, start = _stripped(text, 1, len(text) - 1)
        return inner, offset + start
    return text, offset


def _frame_number(frame_text: str, offset: int, located: _Located) -> int | None:
    """The frame of a numeric key (truncated like the original's int()); None for an expression key."""
    sanitized = frame_text.translate(_SANITIZE).strip()
    if is_plain_number(sanitized):
        if not math.isfinite(float(sanitized)):
            raise located.error("the frame number is too large", offset + 1, "use a frame below max_frames")
        return math.trunc(float(sanitized))
    try:
        check_expression(frame_text, KEY_NAMES)
    except ExpressionError as exc:
        position = offset + (exc.position or 1)
        raise located.error(f"frame key: {exc.reason}", position, exc.fix, KEY_NAMES) from exc
    return None


def _number_value(value_text: str, offset: int, located: _Located) -> float | None:
    """The number of a plain-number value (interpolated), or None after checking an expression value."""
    sanitized = value_text.translate(_SANITIZE)
    if is_plain_number(sanitized):
        if not math.isfinite(float(sanitized)):
            raise located.error("the number is too large", offset + 1, "use a number below 1e308")
        return float(sanitized)
    if not unwrap_parentheses(value_text):
        raise located.error("the value inside the brackets is empty", offset + 1, "write a number, e.g. 0: (1)")
    try:
        check_expression(value_text, ALLOWED_NAMES)
    except ExpressionError as exc:
        raise located.error(exc.reason, offset + (exc.position or 1), exc.fix) from exc
    return None


def _string_value(value_text: str) -> str:
    """The text of a string value: outer parentheses and one pair of quotes removed."""
    value = unwrap_parentheses(value_text)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def unwrap_parentheses(text: str) -> str:
    """Text without parentheses that enclose all of it: `((a) + b)` -> `(a) + b`, `(a)(b)` unchanged."""
    value = text.strip()
    while value.startswith("(") and _closing_of_first(value) == len(value) - 1:
        value = value[1:-1].strip()
    return value


def _closing_of_first(text: str) -> int:
    """Index of the bracket closing text[0], or -1 (quotes respected)."""
    depth, quote = 0, ""
    for match in _STRUCTURE.finditer(text):
        char = match.group()
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return match.start()
    return -1

