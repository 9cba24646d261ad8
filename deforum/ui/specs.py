"""Component specs generated from the settings metadata (FIELD_SPECS): pure data, no gradio."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deforum.models.fields import FieldSpec, Kind
from deforum.models.settings import FIELD_SPECS, Settings
from deforum.models.spec_output import PROMPT_TEXT
from deforum.ui.layout import HIDDEN_KEYS, PROMPT_TEXT_KEYS, layout_keys
from deforum.ui.values import json_text, to_ui_value

ELEM_PREFIX = "deforum_"
MAX_RADIO_CHOICES = 6
MAX_RADIO_TEXT = 20
MAX_SLIDER_SPAN = 1000
LINES = {"prompts": 8, "animation_prompts_positive": 2, "animation_prompts_negative": 2, "init_images": 9,
         "parseq_manifest": 4, "wan_prompts": 4}
HOST_CHOICE_KEYS = ("sampler", "scheduler")


@dataclass(frozen=True)
class ComponentSpec:
    """How one setting is shown: the gradio component kind and its arguments."""

    key: str
    component: str
    label: str
    value: Any
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    precision: int | None = None
    lines: int = 1
    allow_custom: bool = False
    visible: bool = True
    info: str = ""

    @property
    def elem_id(self) -> str:
        """The component's HTML id."""
        return ELEM_PREFIX + self.key


def label_for(key: str) -> str:
    """The label of a setting or prompt box, as the settings metadata declares it."""
    return PROMPT_TEXT[key][0] if key in PROMPT_TEXT else FIELD_SPECS[key].label


def info_for(key: str) -> str:
    """The help line of a setting or prompt box."""
    return PROMPT_TEXT[key][1] if key in PROMPT_TEXT else FIELD_SPECS[key].info


def hint_for(key: str) -> str:
    """The hover hint of a setting or prompt box."""
    return PROMPT_TEXT[key][1] if key in PROMPT_TEXT else FIELD_SPECS[key].hint


def _number_spec(spec: FieldSpec) -> dict[str, Any]:
    """A slider with the declared range and step, else a number box."""
    if spec.slider is not None:
        low, high, step = spec.slider
        return {"component": "slider", "minimum": low, "maximum": high, "step": step}
    low, high = spec.minimum, spec.maximum
    if low is not None and high is not None and high - low <= MAX_SLIDER_SPAN:
        step = 1 if spec.kind is Kind.INT else (0.01 if high - low <= 10 else 0.1)
        return {"component": "slider", "minimum": low, "maximum": high, "step": step}
    return {"component": "number", "precision": 0 if spec.kind is Kind.INT else None}


def _choice_spec(spec: FieldSpec) -> dict[str, Any]:
    """Radio for a few short choices, dropdown otherwise."""
    choices = tuple(spec.choices)
    if spec.kind is Kind.LOOSE_CHOICE:
        return {"component": "dropdown", "choices": choices, "allow_custom": True}
    short = len(choices) <= MAX_RADIO_CHOICES and all(len(str(c)) <= MAX_RADIO_TEXT for c in choices)
    return {"component": "radio" if short else "dropdown", "choices": choices}


def component_args(spec: FieldSpec) -> dict[str, Any]:
    """The component kind and arguments a setting's kind asks for."""
    if spec.kind is Kind.BOOL:
        return {"component": "checkbox"}
    if spec.kind in (Kind.CHOICE, Kind.LOOSE_CHOICE, Kind.INDEX_CHOICE):
        return _choice_spec(spec)
    if spec.kind in (Kind.INT, Kind.FLOAT, Kind.NUMBER) or spec.slider is not None:
        return _number_spec(spec)
    return {"component": "textbox", "lines": LINES.get(spec.key, 1)}


def _host_choice_args(key: str, host_choices: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """A dropdown of the host's names (samplers, schedule types, ControlNet lists) for a free-text setting."""
    choices = tuple(host_choices.get(re.sub(r"^cn_\d+_", "cn_", key), ()))
    return {"component": "dropdown", "choices": choices, "allow_custom": True} if choices else {}


def component_spec(spec: FieldSpec, value: Any,
                   host_choices: Mapping[str, Sequence[str]] | None = None) -> ComponentSpec:
    """The component for one setting, showing value."""
    args = component_args(spec)
    args.update(_host_choice_args(spec.key, host_choices or {}))
    return ComponentSpec(key=spec.key, label=label_for(spec.key), value=to_ui_value(spec, value),
                         visible=spec.key not in HIDDEN_KEYS, info=spec.info, **args)


def prompt_specs(settings: Settings) -> list[ComponentSpec]:
    """The three prompt text boxes."""
    values = {"prompts": json_text(settings.prompts),
              "animation_prompts_positive": settings.animation_prompts_positive,
              "animation_prompts_negative": settings.animation_prompts_negative}
    return [ComponentSpec(key=k, component="textbox", label=label_for(k), value=values[k], lines=LINES[k],
                          info=info_for(k)) for k in PROMPT_TEXT_KEYS]


def hints_html(keys: Sequence[str]) -> str:
    """The hover hints as data for javascript/deforum.js (it sets each component's title from them)."""
    hints = {ELEM_PREFIX + key: hint_for(key) for key in keys}
    return f"<div data-deforum-hints='{html.escape(json.dumps(hints), quote=True)}'></div>"


def ui_keys() -> list[str]:
    """Every key with a component, in the order the tab passes them to its handlers."""
    return [*layout_keys(), *HIDDEN_KEYS]


def component_specs(settings: Settings | None = None,
                    host_choices: Mapping[str, Sequence[str]] | None = None) -> dict[str, ComponentSpec]:
    """A spec per key of ui_keys() (settings fields and the prompt boxes), with settings' values."""
    settings = settings or Settings()
    prompts = {s.key: s for s in prompt_specs(settings)}
    flat = settings.to_flat()
    return {key: prompts[key] if key in prompts else component_spec(FIELD_SPECS[key], flat[key], host_choices)
            for key in ui_keys()}
