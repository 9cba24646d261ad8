"""AnimationKeys: every schedule key of the original, its Looper, ControlNet and the Forge fork, evaluated once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deforum.animation.keys import (
    NUMERIC_SCHEDULE_KEYS,
    STRING_SCHEDULE_KEYS,
    AnimationKeys,
    build_keys,
    numeric_schedule_keys,
)
from deforum.animation.schedules import ScheduleError

DEFORM_ANIM_KEYS = (  # the original's 47 DeformAnimKeys series, by settings key
    "angle", "transform_center_x", "transform_center_y", "zoom", "translation_x", "translation_y", "translation_z",
    "rotation_3d_x", "rotation_3d_y", "rotation_3d_z", "perspective_flip_theta", "perspective_flip_phi",
    "perspective_flip_gamma", "perspective_flip_fv", "noise_schedule", "strength_schedule", "contrast_schedule",
    "cfg_scale_schedule", "ddim_eta_schedule", "ancestral_eta_schedule", "pix2pix_img_cfg_scale_schedule",
    "subseed_schedule", "subseed_strength_schedule", "checkpoint_schedule", "steps_schedule", "seed_schedule",
    "sampler_schedule", "clipskip_schedule", "noise_multiplier_schedule", "mask_schedule", "noise_mask_schedule",
    "kernel_schedule", "sigma_schedule", "amount_schedule", "threshold_schedule", "aspect_ratio_schedule",
    "fov_schedule", "near_schedule", "cadence_flow_factor_schedule", "redo_flow_factor_schedule", "far_schedule",
    "hybrid_comp_alpha_schedule", "hybrid_comp_mask_blend_alpha_schedule", "hybrid_comp_mask_contrast_schedule",
    "hybrid_comp_mask_auto_contrast_cutoff_high_schedule", "hybrid_comp_mask_auto_contrast_cutoff_low_schedule",
    "hybrid_flow_factor_schedule",
)
OTHER_KEYS = (
    "image_strength_schedule", "blendFactorMax", "blendFactorSlope", "tweening_frames_schedule",
    "color_correction_factor", "keyframe_strength_schedule", "distilled_cfg_scale_schedule",
    "image_keyframe_strength_schedule", "freeu_b1", "freeu_b2", "freeu_s1", "freeu_s2", "kohya_hrfix_block_number",
    "kohya_hrfix_downscale_factor", "kohya_hrfix_start_percent", "kohya_hrfix_end_percent",
    *(f"cn_{unit}_{part}" for unit in range(1, 6) for part in ("weight", "guidance_start", "guidance_end")),
)


def test_key_lists_cover_the_original_and_the_forks() -> None:
    assert len(DEFORM_ANIM_KEYS) == 47
    every = set(NUMERIC_SCHEDULE_KEYS) | set(STRING_SCHEDULE_KEYS)
    assert set(DEFORM_ANIM_KEYS) | set(OTHER_KEYS) | {"scheduler_schedule"} == every
    assert set(STRING_SCHEDULE_KEYS) == {"checkpoint_schedule", "sampler_schedule", "mask_schedule",
                                         "noise_mask_schedule", "scheduler_schedule"}
    assert len(NUMERIC_SCHEDULE_KEYS) == len(set(NUMERIC_SCHEDULE_KEYS)) == 74


def test_build_keys_evaluates_every_schedule_of_each_compat_file(compat_file: Path) -> None:
    settings = json.loads(compat_file.read_text(encoding="utf-8"))
    frames = int(settings["max_frames"])
    keys = build_keys(settings, frames, 1234)
    assert set(keys.series) == {k for k in NUMERIC_SCHEDULE_KEYS if k in settings}
    assert set(keys.strings) == {k for k in STRING_SCHEDULE_KEYS if k in settings}
    for series in keys.series.values():
        assert series.dtype == np.float64 and series.shape == (frames,) and np.isfinite(series).all()
    for strings in keys.strings.values():
        assert len(strings) == frames


def test_default_values_read_back() -> None:
    settings = {"zoom": "0: (1.0025+0.002*sin(1.25*3.14*t/30))", "strength_schedule": "0: (0.65)",
                "seed_schedule": '0:(s), 1:(-1), "max_f-2":(-1), "max_f-1":(s)',
                "sampler_schedule": '0: ("Euler a")', "checkpoint_schedule": '0: ("model1.ckpt"), 100: ("x")'}
    keys = build_keys(settings, 120, 777)
    assert keys.value("strength_schedule", 50) == 0.65
    assert keys.value("zoom", 0) == pytest.approx(1.0025)
    assert keys["seed_schedule"].tolist()[:2] == [777, -1] and keys["seed_schedule"].tolist()[-2:] == [777, 777]
    assert keys["sampler_schedule"] == ("Euler a",) * 120
    assert keys.strings["checkpoint_schedule"][99:101] == ("model1.ckpt", "x")
    assert keys.max_frames == 120


def test_keys_are_immutable() -> None:
    keys = build_keys({"zoom": "0: (1)"}, 3, 1)
    with pytest.raises(ValueError):
        keys.series["zoom"][0] = 5.0
    with pytest.raises(TypeError):
        keys.series["angle"] = np.zeros(3)  # type: ignore[index]
    with pytest.raises(AttributeError):
        keys.max_frames = 4  # type: ignore[misc]


def test_unknown_keys_raise_key_error() -> None:
    keys = build_keys({"zoom": "0: (1)", "sampler_schedule": '0: ("DDIM")'}, 3, 1)
    with pytest.raises(KeyError):
        keys["angle"]
    with pytest.raises(KeyError):
        keys.value("sampler_schedule", 0)


def test_controlnet_units_beyond_five_and_other_keys_are_ignored_or_included() -> None:
    values = {"cn_7_weight": "0:(0), 2:(1)", "prompts": "{}", "W": 512, "zoom": "0: (1)"}
    assert numeric_schedule_keys(values) == ("zoom", "cn_7_weight")
    assert build_keys(values, 3, 1)["cn_7_weight"].tolist() == [0, 0.5, 1]


def test_bare_numbers_are_constant_schedules_and_other_types_errors() -> None:
    assert build_keys({"cn_1_weight": 0.5}, 2, 1)["cn_1_weight"].tolist() == [0.5, 0.5]
    with pytest.raises(ScheduleError, match="Schedule 'zoom'.*must be text"):
        build_keys({"zoom": [1, 2]}, 2, 1)


def test_a_bad_schedule_names_its_key() -> None:
    with pytest.raises(ScheduleError, match="Schedule 'translation_x', keyframe 1") as caught:
        build_keys({"zoom": "0: (1)", "translation_x": "0: (t*)"}, 5, 1)
    assert caught.value.schedule_name == "translation_x"


def test_animation_keys_is_a_frozen_dataclass_with_mappings() -> None:
    keys = AnimationKeys(2, {"zoom": np.ones(2)}, {"sampler_schedule": ("a", "b")})
    assert keys["sampler_schedule"] == ("a", "b") and keys.value("zoom", 1) == 1.0
