"""Field specifications: the schema of every setting (key, kind, default, choices, range)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, Literal


class Kind(enum.Enum):
    """How a setting's value is typed and validated."""

    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    NUMBER = "number"
    STR = "str"
    OPTIONAL_STR = "optional_str"
    CHOICE = "choice"
    LOOSE_CHOICE = "loose_choice"
    INDEX_CHOICE = "index_choice"
    INT_TEXT = "int_text"
    SCHEDULE = "schedule"
    STR_SCHEDULE = "str_schedule"
    JSON_TEXT = "json_text"
    MAPPING = "mapping"


BOOL, INT, FLOAT, NUMBER, STR = Kind.BOOL, Kind.INT, Kind.FLOAT, Kind.NUMBER, Kind.STR
OPTIONAL_STR, CHOICE, LOOSE_CHOICE = Kind.OPTIONAL_STR, Kind.CHOICE, Kind.LOOSE_CHOICE
INDEX_CHOICE, INT_TEXT, SCHEDULE = Kind.INDEX_CHOICE, Kind.INT_TEXT, Kind.SCHEDULE
STR_SCHEDULE, JSON_TEXT, MAPPING = Kind.STR_SCHEDULE, Kind.JSON_TEXT, Kind.MAPPING

MASK_FILL_CHOICES = ("fill", "original", "latent noise", "latent nothing")
ACRONYMS = {"3d": "3D", "2d": "2D", "cfg": "CFG", "fov": "FOV", "ddim": "DDIM", "eta": "ETA", "fps": "FPS",
            "gif": "GIF", "n": "N", "x": "X", "y": "Y", "z": "Z", "fv": "FV", "vram": "VRAM", "hr": "HR",
            "cn": "CN", "t2v": "T2V", "i2v": "I2V", "srt": "SRT", "url": "URL", "hrfix": "HR fix",
            "freeu": "FreeU", "b1": "B1", "b2": "B2", "s1": "S1", "s2": "S2", "qwen": "Qwen", "wan": "Wan"}


@dataclass(frozen=True)
class FieldSpec:
    """One setting: its key, kind, default, allowed values, and how the tab, the hints and the docs show it."""

    key: str
    kind: Kind
    default: Any
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    group: str = ""
    title: str = ""
    info: str = ""
    slider: tuple[float, float, float] | None = None

    @property
    def python_type(self) -> Any:
        """The field's type: a ``Literal`` of the choices for a choice, else the kind's Python type."""
        if self.kind is Kind.CHOICE:
            return Literal[self.choices]  # type: ignore[valid-type]
        return _KIND_TYPES.get(self.kind, Any)

    @property
    def label(self) -> str:
        """The tab's label: the declared title, else the key in words (acronyms kept, unit prefix dropped)."""
        if self.title:
            return self.title
        words = re.sub(r"^cn_\d+_", "", self.key).split("_")
        text = " ".join(ACRONYMS.get(w.lower(), w) for w in words if w)
        return text[:1].upper() + text[1:]

    @property
    def hint(self) -> str:
        """The hover hint: the help line, the values allowed and the default."""
        default = "empty" if self.default in ("", None) else repr(self.default)
        if self.kind is Kind.INDEX_CHOICE:
            default = repr(self.choices[int(self.default)])
        return f"{self.info[:1].upper()}{self.info[1:]}. Allowed: {self.describe_allowed()}. Default: {default}."

    def describe_allowed(self) -> str:
        """Say in words which values are allowed."""
        if self.kind in (Kind.CHOICE, Kind.LOOSE_CHOICE):
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is Kind.INDEX_CHOICE:
            names = ", ".join(f"{i} ({c!r})" for i, c in enumerate(self.choices))
            return f"an index or name: {names}"
        if self.kind in (Kind.INT, Kind.FLOAT, Kind.NUMBER, Kind.INT_TEXT):
            return _describe_number(self)
        return _KIND_WORDS[self.kind]


_KIND_TYPES: dict[Kind, Any] = {
    Kind.BOOL: bool, Kind.INT: int, Kind.FLOAT: float, Kind.NUMBER: float, Kind.STR: str,
    Kind.OPTIONAL_STR: str | None, Kind.LOOSE_CHOICE: str, Kind.INT_TEXT: str, Kind.SCHEDULE: str,
    Kind.STR_SCHEDULE: str, Kind.JSON_TEXT: str, Kind.MAPPING: dict,
}

_KIND_WORDS = {
    Kind.BOOL: "true or false",
    Kind.STR: "a string",
    Kind.OPTIONAL_STR: "a string or null",
    Kind.SCHEDULE: 'a schedule string such as "0: (1.0), 30: (t*0.5)"',
    Kind.STR_SCHEDULE: 'a string schedule such as \'0: ("Euler a")\'',
    Kind.JSON_TEXT: "a string holding a JSON object",
    Kind.MAPPING: "a JSON object",
}


def _describe_number(spec: FieldSpec) -> str:
    """Describe a numeric range in words."""
    noun = {Kind.INT: "a whole number", Kind.INT_TEXT: "a whole number"}.get(spec.kind, "a number")
    low, high = spec.minimum, spec.maximum
    if low is not None and high is not None and not spec.exclusive_minimum:
        return f"{noun} from {_plain(low)} to {_plain(high)}"
    parts = []
    if low is not None:
        parts.append(f"{'greater than' if spec.exclusive_minimum else 'at least'} {_plain(low)}")
    if high is not None:
        parts.append(f"at most {_plain(high)}")
    return " ".join([noun, " and ".join(parts)]) if parts else noun


def _plain(number: float) -> str:
    """A bound as people write it: 1000000, not 1e+06."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def F(key: str, kind: Kind, default: Any, **extra: Any) -> FieldSpec:
    """Shorthand used by the spec tables."""
    return FieldSpec(key, kind, default, **extra)
