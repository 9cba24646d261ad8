"""Conversions between Settings values and what the tab's components show and send back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from deforum.config.settings_io import load
from deforum.models.fields import FieldSpec, Kind
from deforum.models.settings import FIELD_SPECS, PROMPT_KEYS, Settings, SettingsError


def to_ui_value(spec: FieldSpec, value: Any) -> Any:
    """A setting's value as its component shows it."""
    if spec.kind is Kind.MAPPING:
        return json_text(value)
    if spec.kind is Kind.INDEX_CHOICE:
        return spec.choices[int(value)]
    if spec.kind is Kind.INT_TEXT and spec.slider is not None:
        return int(value)
    if spec.kind is Kind.OPTIONAL_STR and value is None:
        return ""
    return value


def json_text(value: Mapping[str, Any] | None) -> str:
    """A mapping as the JSON text boxes show it (the prompts, wan_prompts)."""
    return json.dumps(dict(value or {}), ensure_ascii=False, indent=4)


def ui_value(key: str, value: Any) -> Any:
    """The component value of any key of the tab, settings fields and prompt boxes alike."""
    if key == "prompts":
        return json_text(value)
    spec = FIELD_SPECS.get(key)
    return value if spec is None else to_ui_value(spec, value)


def _json_object(key: str, text: Any) -> Any:
    """Parse a JSON text box; a SettingsError naming the key when it is not a JSON object."""
    if isinstance(text, Mapping):
        return dict(text)
    try:
        parsed = json.loads(text or "{}")
    except (TypeError, json.JSONDecodeError) as err:
        raise SettingsError([f"Setting '{key}': not valid JSON ({err}). Check quotes and commas, e.g. "
                             '{"0": "a cat", "30": "a dog"}.']) from None
    if not isinstance(parsed, dict):
        raise SettingsError([f"Setting '{key}': must be a JSON object of frame: text pairs."])
    return parsed


def from_ui_value(key: str, value: Any) -> Any:
    """A component's value as the setting (validation, with messages naming the key, happens on load)."""
    if key == "prompts":
        return _json_object(key, value)
    spec = FIELD_SPECS.get(key)
    if spec is None:
        return value
    if spec.kind is Kind.MAPPING:
        return _json_object(key, value)
    if spec.kind is Kind.INT and isinstance(value, float) and value.is_integer():
        return int(value)
    if spec.kind is Kind.INT_TEXT and isinstance(value, (int, float)) and float(value).is_integer():
        return int(value)  # the original's slider saved a number
    if spec.kind is Kind.OPTIONAL_STR and value == "" and spec.default is None:
        return None
    return value


def settings_from_ui(named: Mapping[str, Any]) -> Settings:
    """Validate the tab's values (by key) as a settings file would be."""
    data = {key: from_ui_value(key, value) for key, value in named.items()
            if key in FIELD_SPECS or key in PROMPT_KEYS}
    return load(data)


def ui_values(settings: Settings, keys: Iterable[str]) -> list[Any]:
    """The component values showing settings, in keys' order."""
    flat = settings.to_flat()
    return [ui_value(key, flat[key]) for key in keys]
