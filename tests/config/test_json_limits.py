"""Huge numbers and deep nesting in settings are exit 2 / a SettingsError naming the key, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deforum.cli import main
from deforum.config.json_limits import MAX_JSON_DEPTH, JsonTooDeepError, check_nesting, loads_limited
from deforum.config.overrides import parse_override
from deforum.config.settings_io import load
from deforum.models.settings import SettingsError

HUGE = 10**309


@pytest.mark.parametrize("key", ["W", "max_frames", "seed", "fps", "strength", "zoom", "diffusion_cadence"])
def test_integers_beyond_float_range_name_the_key(key: str) -> None:
    with pytest.raises(SettingsError, match=f"Setting '{key}'.*too large"):
        load({key: HUGE})


def test_huge_integer_in_a_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "big.txt"
    path.write_text('{"W": 1' + "0" * 309 + "}")
    assert main(["settings", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Setting 'W'" in err and "too large" in err and "Traceback" not in err


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000,
                                  '{"W": 1' + "0" * 5000 + "}"])
def test_deep_nesting_and_over_long_numbers_in_a_file_are_exit_2(text: str, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "deep.txt"
    path.write_text(text)
    assert main(["settings", "check", str(path)]) == 2
    assert "Not usable JSON" in capsys.readouterr().err


def test_nesting_limit_is_exact() -> None:
    check_nesting(json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH))
    with pytest.raises(JsonTooDeepError, match=str(MAX_JSON_DEPTH)):
        check_nesting(json.loads("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)))
    with pytest.raises(JsonTooDeepError):
        loads_limited("[" * 50_000 + "]" * 50_000)


def test_deeply_nested_setting_in_a_mapping_names_the_key() -> None:
    nested: object = 1
    for _ in range(MAX_JSON_DEPTH + 2):
        nested = {"a": nested}
    with pytest.raises(SettingsError, match="Setting 'prompts'.*nested too deeply"):
        load({"prompts": nested})


def test_deep_override_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="Override 'W'.*nested too deeply"):
        parse_override("W=" + "[" * 5000 + "]" * 5000)
    assert parse_override("W=64") == ("W", 64)
