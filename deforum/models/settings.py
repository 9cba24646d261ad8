"""The Settings aggregate: frozen, validated arg groups with the original extension's key names."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from deforum.models.errors import DeforumError
from deforum.models.fields import FieldSpec
from deforum.models.key_use import with_use_notes
from deforum.models.spec_anim import ANIM_FIELDS
from deforum.models.spec_args import ARGS_FIELDS
from deforum.models.spec_extra import CONTROLNET_FIELDS
from deforum.models.spec_forge import FORGE_FIELDS
from deforum.models.spec_output import LOOP_FIELDS, OUTPUT_FIELDS, PARSEQ_FIELDS
from deforum.models.validation import FieldProblem, check_value

PROMPT_KEYS = ("prompts", "animation_prompts_positive", "animation_prompts_negative")

DEFAULT_PROMPTS = {
    "0": "tiny cute swamp bunny, highly detailed, intricate, ultra hd, sharp photo, crepuscular rays, in focus, "
         "4k, landscape",
    "30": "anthropomorphic clean cat, surrounded by mandelbulb fractals, epic angle and pose, symmetrical, 3d, "
          "depth of field",
    "60": "a beautiful coconut --neg photo, realistic",
    "90": "a beautiful durian, amazing award winning photography",
}
DEFAULT_NEGATIVE_PROMPT = "nsfw, nude"


class SettingsError(DeforumError, ValueError):
    """Invalid settings: every problem found, each naming the key, the value and what is allowed."""

    def __init__(self, problems: list[FieldProblem] | list[str], source: str = "") -> None:
        self.problems = [p.message() if isinstance(p, FieldProblem) else p for p in problems]
        self.keys = [p.key for p in problems if isinstance(p, FieldProblem)]
        where = f" in {source}" if source else ""
        lines = [f"Invalid settings{where} ({len(self.problems)} problem(s)):"]
        lines += [f"  - {line}" for line in self.problems]
        super().__init__("\n".join(lines))


def _make_group(name: str, specs: tuple[FieldSpec, ...]) -> type:
    """Build a frozen dataclass whose fields are the specs' keys, typed by kind (choices as Literal), with defaults."""
    fields = [(s.key, s.python_type, dataclasses.field(default_factory=_default_factory(s))) for s in specs]
    cls = dataclasses.make_dataclass(name, fields, frozen=True, namespace={"SPECS": specs})
    cls.__doc__ = f"The {name} settings group (frozen)."
    return cls


def _default_factory(spec: FieldSpec) -> Any:
    """A factory returning a fresh copy of the spec's default (dicts must not be shared)."""
    default = spec.default
    if isinstance(default, dict):
        return lambda: dict(default)
    return lambda: default


DeforumArgs = _make_group("DeforumArgs", with_use_notes(ARGS_FIELDS))
DeforumAnimArgs = _make_group("DeforumAnimArgs", with_use_notes(ANIM_FIELDS))
ParseqArgs = _make_group("ParseqArgs", with_use_notes(PARSEQ_FIELDS))
LoopArgs = _make_group("LoopArgs", with_use_notes(LOOP_FIELDS))
ControlNetArgs = _make_group("ControlNetArgs", with_use_notes(CONTROLNET_FIELDS))
DeforumOutputArgs = _make_group("DeforumOutputArgs", with_use_notes(OUTPUT_FIELDS))
ForgeArgs = _make_group("ForgeArgs", with_use_notes(FORGE_FIELDS))

GROUPS: tuple[tuple[str, type], ...] = (
    ("args", DeforumArgs),
    ("anim", DeforumAnimArgs),
    ("parseq", ParseqArgs),
    ("loop", LoopArgs),
    ("controlnet", ControlNetArgs),
    ("output", DeforumOutputArgs),
    ("forge", ForgeArgs),
)
FIELD_SPECS: dict[str, FieldSpec] = {s.key: s for _, cls in GROUPS for s in cls.SPECS}
GROUP_OF_KEY: dict[str, str] = {s.key: g for g, cls in GROUPS for s in cls.SPECS}


def _frozen_mapping(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy of values."""
    return types.MappingProxyType(dict(values))


def _check_prompts(value: Any) -> tuple[dict[str, str], list[str]]:
    """Validate the prompts mapping: keys are strings, values strings."""
    if not isinstance(value, Mapping):
        return {}, [f"Setting 'prompts': {type(value).__name__} is not a JSON object. "
                    'Allowed: an object of frame keys to prompts, e.g. {"0": "a cat", "30": "a dog"}.']
    problems = [f"Setting 'prompts': prompt for key {k!r} is not a string. Allowed: text."
                for k, v in value.items() if not isinstance(v, str)]
    return {str(k): v for k, v in value.items()}, problems


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every setting of one Deforum run, validated and immutable; `replace` makes a changed copy."""

    args: Any = dataclasses.field(default_factory=DeforumArgs)
    anim: Any = dataclasses.field(default_factory=DeforumAnimArgs)
    parseq: Any = dataclasses.field(default_factory=ParseqArgs)
    loop: Any = dataclasses.field(default_factory=LoopArgs)
    controlnet: Any = dataclasses.field(default_factory=ControlNetArgs)
    output: Any = dataclasses.field(default_factory=DeforumOutputArgs)
    forge: Any = dataclasses.field(default_factory=ForgeArgs)
    prompts: Mapping[str, str] = dataclasses.field(default_factory=lambda: _frozen_mapping(DEFAULT_PROMPTS))
    animation_prompts_positive: str = ""
    animation_prompts_negative: str = DEFAULT_NEGATIVE_PROMPT
    extras: Mapping[str, Any] = dataclasses.field(default_factory=lambda: _frozen_mapping({}))
    warnings: tuple[str, ...] = dataclasses.field(default=(), compare=False)

    GROUP_NAMES: ClassVar[tuple[str, ...]] = tuple(g for g, _ in GROUPS)

    def __getitem__(self, key: str) -> Any:
        """Look a setting up by its original flat key name."""
        if key in GROUP_OF_KEY:
            return getattr(getattr(self, GROUP_OF_KEY[key]), key)
        if key in PROMPT_KEYS:
            return getattr(self, key)
        raise KeyError(f"Unknown setting {key!r}")

    def keys(self) -> Iterator[str]:
        """All known setting keys, prompts included."""
        yield from FIELD_SPECS
        yield from PROMPT_KEYS

    def to_flat(self) -> dict[str, Any]:
        """Every known setting as one flat dict (prompts as a plain dict), in the original's group order."""
        flat: dict[str, Any] = {}
        for group_name in self.GROUP_NAMES:
            flat.update(dataclasses.asdict(getattr(self, group_name)))
        flat["prompts"] = dict(self.prompts)
        flat["animation_prompts_positive"] = self.animation_prompts_positive
        flat["animation_prompts_negative"] = self.animation_prompts_negative
        return flat

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, warnings: tuple[str, ...] = (),
                  source: str = "", base: Settings | None = None) -> Settings:
        """Validate a flat mapping of original key names; missing keys take `base`'s values or defaults."""
        start = (base or cls()).to_flat()
        problems: list[FieldProblem | str] = []
        groups: dict[str, dict[str, Any]] = {g: {} for g in cls.GROUP_NAMES}
        for key, spec in FIELD_SPECS.items():
            value, problem = check_value(spec, values[key]) if key in values else (start[key], None)
            if problem:
                problems.append(problem)
            groups[GROUP_OF_KEY[key]][key] = value
        prompts, prompt_problems = _check_prompts(values.get("prompts", start["prompts"]))
        problems += prompt_problems
        problems += _check_prompt_texts(values)
        if problems:
            raise SettingsError(problems, source)
        extras = {k: v for k, v in values.items() if k not in FIELD_SPECS and k not in PROMPT_KEYS}
        return cls(
            **{g: _group_class(g)(**groups[g]) for g in cls.GROUP_NAMES},
            prompts=_frozen_mapping(prompts),
            animation_prompts_positive=values.get("animation_prompts_positive", start["animation_prompts_positive"]),
            animation_prompts_negative=values.get("animation_prompts_negative", start["animation_prompts_negative"]),
            extras=_frozen_mapping({**(base.extras if base else {}), **extras}),
            warnings=tuple(warnings),
        )

    def replace(self, **changes: Any) -> Settings:
        """A new Settings with the given flat keys changed, validated like a file."""
        unknown = [k for k in changes if k not in FIELD_SPECS and k not in PROMPT_KEYS]
        if unknown:
            raise SettingsError([f"Unknown setting {k!r}: no such key. Check the spelling against "
                                 "default_settings.txt." for k in unknown])
        return Settings.from_dict(changes, base=self, warnings=self.warnings)


def _check_prompt_texts(values: Mapping[str, Any]) -> list[str]:
    """The shared positive/negative prompts must be strings."""
    return [f"Setting '{key}': {values[key]!r} is not a string. Allowed: text."
            for key in PROMPT_KEYS[1:] if key in values and not isinstance(values[key], str)]


def _group_class(group_name: str) -> type:
    """The dataclass of a group by its attribute name."""
    return dict(GROUPS)[group_name]
