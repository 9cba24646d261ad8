"""Size and geometry limits: refused at `settings check` (exit 2) and at API submission (422) naming key and frame."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deforum.cli import main
from deforum.config.render_limits import MAX_PIXELS, MAX_PROMPT_TEXT_BYTES
from deforum.config.settings_io import load
from deforum.integrations.api.validate import InvalidRequest, RequestPolicy, validate_settings
from deforum.models.settings import SettingsError

REFUSED = [
    ({"kernel_schedule": "0:(1000000000)"}, "kernel_schedule", "at frame 0 is larger than the image"),
    ({"kernel_schedule": "0:(5), 3:(513)", "W": 512, "H": 256}, "kernel_schedule", "513 at frame 3"),
    ({"max_frames": 1e30}, "max_frames", "out of range"),
    ({"fps": 1e308}, "fps", "out of range"),
    ({"W": 8192, "H": 8192}, "W", f"over the limit of {MAX_PIXELS}"),
    ({"cn_1_processor_res": 10**9}, "cn_1_processor_res", "out of range"),
    ({"animation_mode": "3D", "fov_schedule": "0:(0)"}, "fov_schedule", "at frame 0 gives a degenerate"),
    ({"animation_mode": "3D", "fov_schedule": "0:(40), 4:(360)"}, "fov_schedule", "360 at frame 4"),
    ({"animation_mode": "3D", "aspect_ratio_schedule": "0:(0)"}, "aspect_ratio_schedule", "divides by zero"),
    ({"animation_mode": "3D", "near_schedule": "0:(50)", "far_schedule": "0:(50)"}, "far_schedule",
     "equals near_schedule"),
    ({"enable_perspective_flip": True, "perspective_flip_fv": "0:(0)"}, "perspective_flip_fv", "divides by zero"),
    ({"enable_perspective_flip": True, "perspective_flip_fv": "0:(53), 2:(360)"}, "perspective_flip_fv",
     "at frame 2"),
    ({"max_frames": 100_000, "prompts": {"0": "a `t` " + "x" * 100_000}}, "prompts", "MiB of text"),
]


def _settings(changes: dict) -> dict:
    return {"max_frames": 5, "W": 64, "H": 64, **changes}


@pytest.mark.parametrize(("changes", "key", "fragment"), REFUSED)
def test_limits_refused_at_load_naming_the_key(changes: dict, key: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load(_settings(changes))
    assert f"Setting '{key}'" in str(caught.value) and fragment in str(caught.value)


@pytest.mark.parametrize(("changes", "key", "fragment"), REFUSED)
def test_limits_refused_at_api_submission_naming_the_key(changes: dict, key: str, fragment: str,
                                                          tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_settings(_settings(changes), RequestPolicy(output_root=tmp_path))
    assert [problem.loc[-1] for problem in caught.value.problems] == [key]
    assert fragment in caught.value.problems[0].msg


def test_settings_check_is_exit_2_with_the_key(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "s.txt"
    path.write_text(json.dumps(_settings({"animation_mode": "3D", "fov_schedule": "0:(0)"})))
    assert main(["settings", "check", str(path)]) == 2
    assert "Setting 'fov_schedule': the value 0 at frame 0" in capsys.readouterr().err


@pytest.mark.parametrize("changes", [
    {"animation_mode": "2D", "fov_schedule": "0:(0)", "aspect_ratio_schedule": "0:(0)"},
    {"enable_perspective_flip": False, "perspective_flip_fv": "0:(0)"},
    {"W": 4096, "H": 4096, "kernel_schedule": "0:(4096)"},
    {"animation_mode": "3D", "fov_schedule": "0:(-40)", "near_schedule": "0:(10000)", "far_schedule": "0:(200)"},
])
def test_values_that_cannot_divide_or_blow_up_stay_accepted(changes: dict) -> None:
    load(_settings(changes))


def test_prompt_budget_counts_frames_times_bytes() -> None:
    frames = 1000
    size = MAX_PROMPT_TEXT_BYTES // frames
    load(_settings({"max_frames": frames, "prompts": {"0": "x" * (size - 2000)}}))
    with pytest.raises(SettingsError, match="prompt bytes × frames"):
        load(_settings({"max_frames": frames, "prompts": {"0": "x" * (size + 10)}}))
