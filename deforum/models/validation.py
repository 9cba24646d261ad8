"""Coerce and check one setting value against its FieldSpec."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from deforum.models.errors import DeforumError
from deforum.models.fields import FieldSpec, Kind


@dataclass(frozen=True)
class FieldProblem:
    """One invalid setting: which key, what value, what is wrong and what is allowed."""

    key: str
    value: Any
    reason: str
    allowed: str

    def message(self) -> str:
        """The problem as one readable line."""
        shown = repr(self.value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"Setting '{self.key}': {shown} {self.reason}. Allowed: {self.allowed}."


class FieldValueError(DeforumError, ValueError):
    """Raised by coerce_value when a value does not fit its spec."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


MAX_WHOLE_NUMBER = 2**63 - 1


def _is_number(value: Any) -> bool:
    """True for int/float but not bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_finite_number(value: Any) -> bool:
    """A number that fits a float and is finite (Python ints may be far beyond 1e308)."""
    if not _is_number(value):
        return False
    if isinstance(value, int):
        return abs(value) <= MAX_WHOLE_NUMBER
    return math.isfinite(value)


def _refuse_huge(value: Any) -> None:
    """Raise the 'too large' error for whole numbers beyond int64, which no setting can use."""
    if _is_number(value) and isinstance(value, int) and abs(value) > MAX_WHOLE_NUMBER:
        raise FieldValueError(f"is too large (whole numbers stop at ±{MAX_WHOLE_NUMBER})")


def _coerce_int(value: Any) -> int:
    """Accept ints and integral floats (the WebUI's number boxes send 10.0)."""
    if isinstance(value, str):
        try:
            value = float(value.strip()) if "." in value or "e" in value.lower() else int(value.strip())
        except ValueError:
            raise FieldValueError("is not a whole number") from None
    _refuse_huge(value)
    if not _is_finite_number(value) or (isinstance(value, float) and not value.is_integer()):
        raise FieldValueError("is not a whole number")
    return int(value)


def _coerce_float(value: Any) -> int | float:
    """Accept ints and floats (kept as given), refusing NaN and infinities."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise FieldValueError("is not a number") from None
    _refuse_huge(value)
    if not _is_finite_number(value):
        raise FieldValueError("is not a finite number")
    return value


def _check_range(spec: FieldSpec, value: float) -> None:
    """Raise when value lies outside the spec's range."""
    low, high = spec.minimum, spec.maximum
    if low is not None and (value < low or (spec.exclusive_minimum and value == low)):
        raise FieldValueError("is out of range")
    if high is not None and value > high:
        raise FieldValueError("is out of range")


def _coerce_schedule(value: Any) -> str:
    """Schedules are strings; a bare number means a constant schedule."""
    _refuse_huge(value)
    if _is_finite_number(value):
        return f"0:({value})"
    if not isinstance(value, str):
        raise FieldValueError("is not a schedule string")
    if not value.strip():
        raise FieldValueError("is an empty schedule")
    return value


def _coerce_choice(spec: FieldSpec, value: Any) -> Any:
    """Exact choices; a case-insensitive match is accepted and normalised."""
    if value in spec.choices:
        return value
    if isinstance(value, str):
        for choice in spec.choices:
            if isinstance(choice, str) and choice.lower() == value.strip().lower():
                return choice
    raise FieldValueError("is not a valid choice")


def _coerce_index_choice(spec: FieldSpec, value: Any) -> int:
    """Store an index into choices; accept the index or the choice's name."""
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        return spec.choices.index(_coerce_choice(spec, value))
    index = _coerce_int(value)
    if not 0 <= index < len(spec.choices):
        raise FieldValueError("is not a valid index")
    return index


def _coerce_json_text(value: Any) -> str:
    """A string that parses as a JSON object (a dict is serialised)."""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, indent=4)
    if not isinstance(value, str):
        raise FieldValueError("is not a JSON string")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as err:
        raise FieldValueError(f"is not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    if not isinstance(parsed, dict):
        raise FieldValueError("is not a JSON object")
    return value


def _coerce_simple(kind: Kind, value: Any) -> Any:
    """Coerce the kinds that need no spec details."""
    if kind is Kind.BOOL:
        if not isinstance(value, bool):
            raise FieldValueError("is not true or false")
        return value
    if kind is Kind.STR or kind is Kind.STR_SCHEDULE:
        if not isinstance(value, str):
            raise FieldValueError("is not a string")
        return value
    if kind is Kind.OPTIONAL_STR:
        if value is not None and not isinstance(value, str):
            raise FieldValueError("is not a string or null")
        return value
    if kind is Kind.MAPPING:
        if not isinstance(value, dict):
            raise FieldValueError("is not a JSON object")
        return dict(value)
    if kind is Kind.JSON_TEXT:
        return _coerce_json_text(value)
    return _coerce_schedule(value)


def coerce_value(spec: FieldSpec, value: Any) -> Any:
    """Return the canonical value for spec, or raise FieldValueError."""
    kind = spec.kind
    if kind is Kind.INT:
        number = _coerce_int(value)
        _check_range(spec, number)
        return number
    if kind in (Kind.FLOAT, Kind.NUMBER):
        number = _coerce_float(value)
        _check_range(spec, number)
        return number
    if kind is Kind.INT_TEXT:
        number = _coerce_int(value)
        _check_range(spec, number)
        return str(number) if isinstance(value, str) else value
    if kind is Kind.CHOICE:
        return _coerce_choice(spec, value)
    if kind is Kind.LOOSE_CHOICE:
        if not isinstance(value, str):
            raise FieldValueError("is not a string")
        return value
    if kind is Kind.INDEX_CHOICE:
        return _coerce_index_choice(spec, value)
    return _coerce_simple(kind, value)


def check_value(spec: FieldSpec, value: Any) -> tuple[Any, FieldProblem | None]:
    """Coerce value, returning (canonical value, None) or (value, problem)."""
    try:
        return coerce_value(spec, value), None
    except FieldValueError as err:
        return value, FieldProblem(spec.key, value, err.reason, spec.describe_allowed())
