"""Settings model: defaults equal the original's, validation names key/value/allowed, replace is validated."""

from __future__ import annotations

import dataclasses
import json

import pytest

from deforum.models.fields import Kind
from deforum.models.settings import FIELD_SPECS, Settings, SettingsError
from tests.conftest import DATA

ORIGINAL_DEFAULTS = json.loads((DATA / "compat/original/default_settings.txt").read_text())
RUNTIME_SUBSTITUTED = {"batch_name", "prompts", "positive_prompts", "negative_prompts",
                       "sd_model_name", "sd_model_hash", "deforum_git_commit_id"}


def test_every_original_key_has_the_original_default() -> None:
    flat = Settings().to_flat()
    for key, value in ORIGINAL_DEFAULTS.items():
        if key in RUNTIME_SUBSTITUTED:
            continue
        assert flat[key] == value, key


def test_batch_name_default_keeps_the_placeholder() -> None:
    assert Settings().args.batch_name == "Deforum_{timestring}"


def test_controlnet_units_have_17_keys_each() -> None:
    for n in range(1, 6):
        assert len([k for k in FIELD_SPECS if k.startswith(f"cn_{n}_")]) == 17


def test_groups_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.args.W = 64  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.prompts["0"] = "x"  # type: ignore[index]


def test_replace_returns_a_new_validated_object() -> None:
    base = Settings()
    changed = base.replace(W=256, animation_mode="2D", max_frames=12)
    assert (changed.args.W, changed.anim.animation_mode, changed.anim.max_frames) == (256, "2D", 12)
    assert base.args.W == 512 and base.anim.max_frames == 120


def test_replace_unknown_key_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="Unknown setting 'max_frame'"):
        Settings().replace(max_frame=3)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("W", "wide", "Setting 'W': 'wide' is not a whole number"),
        ("H", 100000, "Setting 'H': 100000 is out of range. Allowed: a whole number from 8 to 8192"),
        ("max_frames", 0, "Setting 'max_frames': 0 is out of range. Allowed: a whole number from 1 to 1000000"),
        ("diffusion_cadence", 0, "Setting 'diffusion_cadence': 0 is out of range"),
        ("fps", 0, "Setting 'fps': 0 is out of range. Allowed: a number greater than 0 and at most 10000"),
        ("strength", 1.5, "Setting 'strength': 1.5 is out of range. Allowed: a number from 0 to 1"),
        ("use_init", "yes", "Setting 'use_init': 'yes' is not true or false"),
        ("animation_mode", "4D", "Setting 'animation_mode': '4D' is not a valid choice. Allowed: one of '2D'"),
        ("fill", 9, "Setting 'fill': 9 is not a valid index"),
        ("seed", 1.5, "Setting 'seed': 1.5 is not a whole number"),
        ("reroll_patience", float("nan"), "Setting 'reroll_patience': nan is not a finite number"),
        ("init_images", "[1, 2]", "Setting 'init_images': '[1, 2]' is not a JSON object"),
        ("zoom", ["0: (1)"], "Setting 'zoom': ['0: (1)'] is not a schedule string"),
    ],
)
def test_bad_values_name_key_value_and_allowed(key: str, value: object, fragment: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings().replace(**{key: value})
    assert fragment in str(info.value)
    assert info.value.keys == [key]


def test_all_problems_reported_together() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_dict({"W": -1, "H": "x", "fps": -3})
    assert set(info.value.keys) == {"W", "H", "fps"}
    assert "3 problem(s)" in str(info.value)


def test_coercions_accept_what_the_webui_sends() -> None:
    settings = Settings.from_dict({"seed_iter_N": 2.0, "fill": "latent noise", "diffusion_redo": 3,
                                   "animation_mode": "3d", "strength_schedule": 0.5})
    assert settings.args.seed_iter_N == 2 and isinstance(settings.args.seed_iter_N, int)
    assert settings.args.fill == 2
    assert settings.anim.diffusion_redo == 3  # kept as given: the original wrote the value's own JSON type
    assert settings.anim.animation_mode == "3D"
    assert settings.anim.strength_schedule == "0:(0.5)"


def test_unknown_keys_are_kept_as_extras() -> None:
    settings = Settings.from_dict({"my_custom_key": [1, 2]})
    assert settings.extras == {"my_custom_key": [1, 2]}


def test_prompts_must_be_an_object_of_strings() -> None:
    with pytest.raises(SettingsError, match="Setting 'prompts'"):
        Settings.from_dict({"prompts": ["a", "b"]})
    with pytest.raises(SettingsError, match="prompt for key '0' is not a string"):
        Settings.from_dict({"prompts": {"0": 5}})


def test_every_spec_default_validates_against_itself() -> None:
    from deforum.models.validation import check_value

    for spec in FIELD_SPECS.values():
        value, problem = check_value(spec, spec.default)
        assert problem is None, spec.key
        if spec.kind is not Kind.MAPPING:
            assert value == spec.default
