"""Parseq manifests: overrides, deltas, prompts, seeds, fallbacks and a preview render through run_render."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deforum.cli import main
from deforum.config.settings_io import load
from deforum.core.engine import RenderServices
from deforum.core.frame_params import frame_params
from deforum.core.preview import PreviewModelService
from deforum.core.run import run_render
from deforum.core.run_inputs import render_inputs
from deforum.integrations.features.hooks import preflight, render_hooks
from deforum.integrations.features.parseq import ParseqError, ParseqHook, parseq_field
from deforum.media.frames_io import existing_frames
from deforum.models.settings import SettingsError
from tests.conftest import DATA

MANIFEST_FILE = DATA / "compat/original/parseq.json"
MANIFEST = json.loads(MANIFEST_FILE.read_text())
FRAMES = MANIFEST["rendered_frames"]


def settings(**changes: object):
    base = load(DATA / "compat/original/default_settings.txt")
    values = {"W": 64, "H": 64, "max_frames": 5, "fps": 20, "diffusion_cadence": 1, "seed": 7, "batch_name": "pq",
              "parseq_manifest": MANIFEST_FILE.read_text(), **changes}
    return base.replace(**values)


def decorated(**changes: object):
    """(adjusted settings, decorated inputs) as run_render makes them."""
    hook = ParseqHook.from_settings(settings(**changes))
    adjusted = hook.adjust_settings(settings(**changes))
    return adjusted, hook.decorate(render_inputs(adjusted, 7))


def inline(frames: list[dict], **options: object) -> str:
    return json.dumps({"options": options, "rendered_frames": frames})


def test_the_file_is_what_the_tests_assume() -> None:
    assert MANIFEST["options"]["output_fps"] == 60 and MANIFEST["options"]["cadence"] == 2
    assert len(FRAMES) == 11 and FRAMES[-1]["frame"] == 10
    assert FRAMES[1]["angle"] == FRAMES[1]["angle_delta"]
    assert FRAMES[2]["angle"] != FRAMES[2]["angle_delta"]


def test_overrides_take_frames_fps_and_cadence_from_the_manifest() -> None:
    adjusted, inputs = decorated(parseq_non_schedule_overrides=True)
    assert (adjusted.anim.max_frames, adjusted.output.fps, adjusted.anim.diffusion_cadence) == (11, 60, 2)
    assert inputs.keys.max_frames == 11 and len(inputs.prompts) == 11 and inputs.plan.max_frames == 11


def test_without_overrides_the_settings_keep_frames_fps_and_cadence() -> None:
    adjusted, inputs = decorated(parseq_non_schedule_overrides=False)
    assert (adjusted.anim.max_frames, adjusted.output.fps, adjusted.anim.diffusion_cadence) == (5, 20, 1)
    assert inputs.keys.max_frames == 5


@pytest.mark.parametrize(("deltas", "field"), [(True, "angle_delta"), (False, "angle")])
def test_motion_uses_deltas_or_absolute_values(deltas: bool, field: str) -> None:
    _, inputs = decorated(parseq_use_deltas=deltas, parseq_non_schedule_overrides=True)
    expected = [frame[field] for frame in FRAMES]
    assert np.allclose(inputs.keys["angle"], expected)
    assert inputs.keys["angle"][2] == pytest.approx(14.642608005423675 if deltas else 44.7534852915723)


@pytest.mark.parametrize(("deltas", "angle"), [(True, 90), (False, 180)])
def test_the_originals_delta_example(deltas: bool, angle: float) -> None:
    manifest = inline([{"frame": 0, "angle": 90, "angle_delta": 90}, {"frame": 1, "angle": 180, "angle_delta": 90}])
    _, inputs = decorated(parseq_manifest=manifest, parseq_use_deltas=deltas, max_frames=2)
    assert inputs.keys["angle"][1] == angle


def test_frames_past_the_manifest_repeat_the_last_value() -> None:
    _, inputs = decorated(parseq_non_schedule_overrides=False, max_frames=15)
    assert np.allclose(inputs.keys["angle"][10:], FRAMES[-1]["angle_delta"])
    assert np.allclose(inputs.keys["seed_schedule"][10:], 56)


def test_unmanaged_schedules_keep_deforums_values() -> None:
    plain = render_inputs(settings(zoom="0: (1.05)"), 7)
    _, inputs = decorated(zoom="0: (1.05)", parseq_non_schedule_overrides=False)
    assert np.array_equal(inputs.keys["zoom"], plain.keys["zoom"])
    assert np.array_equal(inputs.keys["strength_schedule"], plain.keys["strength_schedule"])


def test_prompts_come_from_the_manifest() -> None:
    _, inputs = decorated(prompts={"0": "a deforum prompt"})
    assert set(inputs.prompts) == {("Parseq prompt!", "neg parseq prompt!")}


def test_without_deforum_prompt_the_settings_prompts_stay() -> None:
    manifest = inline([{"frame": 0, "angle": 1}, {"frame": 1, "angle": 2}])
    _, inputs = decorated(parseq_manifest=manifest, prompts={"0": "a cat --neg dog"}, animation_prompts_negative="")
    assert set(inputs.prompts) == {("a cat", "dog")}


def test_manifest_prompts_evaluate_backticks_per_frame() -> None:
    manifest = inline([{"frame": 0, "deforum_prompt": "cat:`t*2` --neg dog"},
                       {"frame": 1, "deforum_prompt": "cat:`t*2` --neg dog"}])
    _, inputs = decorated(parseq_manifest=manifest, max_frames=3, parseq_non_schedule_overrides=False)
    assert inputs.prompts == (("cat:0", "dog"), ("cat:2", "dog"), ("cat:4", "dog"))
    assert inputs.prompt_texts == ("cat:`t*2` --neg dog",) * 3  # the .srt prints the manifest's text, as the original


def test_without_deforum_prompt_the_srt_prompt_is_the_merged_keyframe_text() -> None:
    manifest = inline([{"frame": 0, "angle": 1}, {"frame": 1, "angle": 2}])
    _, inputs = decorated(parseq_manifest=manifest, prompts={"0": "a cat"}, animation_prompts_negative="dog",
                          max_frames=2)
    assert inputs.prompt_texts == (" a cat --neg dog",) * 2


def test_a_managed_seed_schedules_seed_and_subseed() -> None:
    adjusted, inputs = decorated(seed_behavior="iter", enable_subseed_scheduling=False)
    assert adjusted.args.seed_behavior == "schedule" and adjusted.anim.enable_subseed_scheduling
    params = frame_params(adjusted, inputs.keys, inputs.prompts, 3, 7, 3)
    assert (params.seed, params.subseed) == (55, 56)
    assert params.subseed_strength == pytest.approx(FRAMES[3]["subseed_strength"])


def test_fields_by_name_controlnet_guided_and_cfg() -> None:
    frame = {"cn_1_weight": 0.4, "guided_blendFactorMax": 0.3, "strength": 0.55, "scale": 9, "antiblur_kernel": 3,
             "pix2pix_img_cfg_scale": 2.5, "sampler_schedule": "DDIM"}
    manifest = inline([{"frame": 0, **frame}, {"frame": 1, **frame}])
    _, inputs = decorated(parseq_manifest=manifest, max_frames=2)
    keys = inputs.keys
    assert keys.value("cn_1_weight", 1) == 0.4 and keys.value("blendFactorMax", 1) == 0.3
    assert keys.value("strength_schedule", 0) == keys.value("image_strength_schedule", 0) == 0.55
    assert keys.value("cfg_scale_schedule", 0) == 9 and keys.value("kernel_schedule", 0) == 3
    assert keys.value("pix2pix_img_cfg_scale_schedule", 0) == 2.5 and keys.strings["sampler_schedule"] == ("DDIM",) * 2


def test_field_names() -> None:
    assert parseq_field("zoom", True) == "zoom_delta" and parseq_field("zoom", False) == "zoom"
    assert parseq_field("noise_schedule", True) == "noise" and parseq_field("cn_2_guidance_end", True) == \
        "cn_2_guidance_end"
    assert parseq_field("checkpoint_schedule", True) == "checkpoint"


def test_the_table_names_managed_and_deforum_fields() -> None:
    table = ParseqHook.from_settings(settings()).table(settings())
    parseq_side = "\n".join(line.split("|")[1] for line in table.splitlines())
    deforum_side = "\n".join(line.split("|")[2] for line in table.splitlines())
    assert "angle" in parseq_side and "seed" in parseq_side and "zoom" not in parseq_side
    assert "zoom" in deforum_side and "11 (used)" in table and "60 (used)" in table


@pytest.mark.parametrize(("manifest", "message"), [
    ("https://sd-parseq.web.app/api/manifest/abc", "offline"),
    ('{"rendered_frames": [', "not valid JSON"),
    ('{"options": {}}', "rendered_frames"),
    ('{"rendered_frames": [{"angle": 1}]}', "'frame'"),
    ("/no/such/manifest.json", "neither manifest JSON nor an existing file"),
])
def test_unusable_manifests_are_clear_errors(manifest: str, message: str) -> None:
    with pytest.raises(ParseqError, match=message) as caught:
        ParseqHook.from_settings(settings(parseq_manifest=manifest))
    assert "Setting 'parseq_manifest'" in str(caught.value)


def test_a_non_numeric_value_names_field_and_frame() -> None:
    manifest = inline([{"frame": 0, "zoom_delta": 1}, {"frame": 1, "zoom_delta": "x"}])
    with pytest.raises(ParseqError, match="'zoom_delta' is 'x' at frame 1"):
        decorated(parseq_manifest=manifest, max_frames=2)


def test_a_manifest_file_path_works() -> None:
    adjusted, inputs = decorated(parseq_manifest=str(MANIFEST_FILE))
    assert adjusted.anim.max_frames == 11 and inputs.keys.value("seed_schedule", 10) == 56


def test_preflight_reports_broken_inline_manifests_and_accepts_good_ones() -> None:
    assert preflight(settings()) == []
    assert any("parseq_manifest" in p for p in preflight(settings(parseq_manifest='{"rendered_frames": 1}')))


def test_preview_render_with_the_hook(tmp_path: Path) -> None:
    s = settings(animation_mode="2D", skip_video_creation=True)
    with pytest.raises(SettingsError, match="parseq_manifest"):
        run_render(s, RenderServices(model=PreviewModelService()), tmp_path / "no-hook")
    result = run_render(s, RenderServices(model=PreviewModelService()), tmp_path, timestring="20240101000000",
                        hooks=render_hooks(s))
    assert existing_frames(result.outdir, result.timestring) == list(range(11)) and result.frames_written == 11
    saved = json.loads((result.outdir / "20240101000000_settings.txt").read_text())
    assert (saved["max_frames"], saved["fps"], saved["diffusion_cadence"]) == (11, 60, 2)
    assert saved["seed_behavior"] == "schedule" and saved["parseq_manifest"] == s.parseq.parseq_manifest


def test_cli_preview_render_with_a_manifest_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["render", str(DATA / "compat/original/default_settings.txt"), "--preview", "--outdir",
                 str(tmp_path), "--set", "W=64", "--set", "H=64", "--set", "max_frames=3", "--set", "batch_name=cli",
                 "--set", f"parseq_manifest={MANIFEST_FILE}", "--set", "skip_video_creation=true"])
    assert code == 0
    outdir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(existing_frames(outdir, next(outdir.glob("*_settings.txt")).name.split("_")[0])) == 11
