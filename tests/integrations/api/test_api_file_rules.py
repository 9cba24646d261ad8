"""Issue 20 items 2 and 3: every setting that can name a file, from one list, and which options a request may set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from deforum.config.file_settings import FILE_SETTINGS, file_references  # noqa: E402
from deforum.integrations.api.option_rules import OVERRIDABLE_OPTIONS, check_option_overrides  # noqa: E402
from deforum.integrations.api.simple import merge_allowed  # noqa: E402
from deforum.integrations.api.validate import InvalidRequest, RequestPolicy, validate_batch  # noqa: E402
from deforum.models.fields import Kind  # noqa: E402
from deforum.models.settings import FIELD_SPECS, Settings  # noqa: E402

SECRET = "/etc/shadow"
# A value naming SECRET for each FILE_SETTINGS entry, written the way that setting names files.
NAMING_SECRET = {
    "path": SECRET, "guided_images": '{"0": "/etc/shadow"}', "manifest": SECRET,
    "mask_schedule": '0: ("{video_mask} & [/etc/shadow]")', "model_schedule": '0: ("../../etc/shadow")',
    "model_name": "../../etc/shadow", "model_folder": SECRET,
}


def _refused_keys(items: list[dict], tmp_path: Path, overrides: dict | None = None, allow: bool = False) -> set:
    with pytest.raises(InvalidRequest) as caught:
        validate_batch(items, overrides, RequestPolicy(tmp_path, allow_local_files=allow))
    return {problem.loc[-1] for problem in caught.value.problems}


def test_the_list_covers_every_setting_whose_name_says_file_path_or_model() -> None:
    listed = {item.key for item in FILE_SETTINGS}
    endings = ("_path", "_file", "_image", "_manifest", "_images")
    named = {key for key, spec in FIELD_SPECS.items() if spec.kind is not Kind.BOOL and key.endswith(endings)
             or key in ("mask_schedule", "noise_mask_schedule", "checkpoint_schedule")
             or (key.startswith("cn_") and key.endswith("_model"))}
    assert named <= listed


@pytest.mark.parametrize("item", FILE_SETTINGS, ids=lambda item: item.key)
def test_every_listed_setting_naming_a_local_file_is_refused_with_its_key(item, tmp_path: Path) -> None:
    assert _refused_keys([{item.key: NAMING_SECRET[item.kind]}], tmp_path) == {item.key}


@pytest.mark.parametrize("key", ["mask_schedule", "noise_mask_schedule"])
def test_file_inside_a_mask_expression_is_refused_whether_or_not_the_mask_is_on(key: str, tmp_path: Path) -> None:
    for switch in ({"use_noise_mask": True, "use_mask": True, "mask_file": ""}, {}):  # no URL default in use
        items = [{**switch, key: '0: ("[/etc/shadow]")'}]
        assert _refused_keys(items, tmp_path) == {key}


def test_the_reported_noise_mask_request_is_refused(tmp_path: Path) -> None:
    """Issue 20 item 2: this was accepted (202) and the job's error told whether the file exists."""
    with pytest.raises(InvalidRequest) as caught:
        validate_batch([{"use_noise_mask": True, "noise_mask_schedule": '0: ("[/etc/shadow]")'}], None,
                       RequestPolicy(tmp_path))
    message = caught.value.problems[0].msg
    assert "inside the mask expression" in message and "exist" not in message


def test_the_simple_api_applies_the_same_rule(tmp_path: Path) -> None:
    merged = merge_allowed(json.dumps({"noise_mask_schedule": '0: ("[/etc/shadow]")', "use_noise_mask": True}),
                           "noise_mask_schedule;use_noise_mask")
    assert _refused_keys([merged], tmp_path) == {"noise_mask_schedule"}


def test_urls_names_and_defaults_are_not_file_references_to_refuse(tmp_path: Path) -> None:
    accepted = validate_batch([{"mask_schedule": '0: ("{video_mask} & [https://x.org/m.png] | <cat>")',
                                "checkpoint_schedule": '0: ("model1.ckpt")', "cn_1_model": "control_canny"}],
                              None, RequestPolicy(tmp_path))
    assert len(accepted) == 1
    texts = {(ref.key, ref.text) for ref in file_references(Settings())}
    assert ("wan_model_path", "models/wan") in texts and ("mask_file", "https://deforum.github.io/a1/M1.jpg") in texts


def test_allowed_local_mask_files_must_exist_when_used(tmp_path: Path) -> None:
    mask = tmp_path / "m.png"
    mask.write_bytes(b"x")
    validate_batch([{"use_noise_mask": True, "noise_mask_schedule": f'0: ("[{mask}]")'}], None,
                   RequestPolicy(tmp_path, allow_local_files=True))
    assert _refused_keys([{"use_noise_mask": True, "noise_mask_schedule": f'0: ("[{tmp_path}/none.png]")'}],
                         tmp_path, allow=True) == {"noise_mask_schedule"}


@pytest.mark.parametrize("key", ["deforum_ffmpeg_location", "deforum_persistent_settings_path",
                                 "deforum_enable_persistent_settings", "outdir_samples", "outdir_img2img_samples",
                                 "ckpt_dir", "sd_checkpoint_cache", "some_unknown_option"])
def test_options_naming_programs_or_paths_are_refused(key: str, tmp_path: Path) -> None:
    """Issue 20 item 3: deforum_ffmpeg_location made the WebUI run any program."""
    assert _refused_keys([{}], tmp_path, overrides={key: "/bin/sh"}) == {key}


def test_listed_options_are_accepted_and_model_names_stay_names(tmp_path: Path) -> None:
    overrides = {"CLIP_stop_at_last_layers": 2, "deforum_ffmpeg_crf": 20, "sd_model_checkpoint": "v1-5.safetensors"}
    assert check_option_overrides(overrides) == []
    assert [p.key for p in check_option_overrides({"sd_vae": "../../x.pt"})] == ["sd_vae"]
    assert "deforum_ffmpeg_location" not in OVERRIDABLE_OPTIONS
    assert not any(key.startswith("outdir") or key.endswith(("_dir", "_path", "_location"))
                   for key in OVERRIDABLE_OPTIONS)
