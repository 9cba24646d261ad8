"""Wan clip planning: 4n+1 frame maths, clips from prompt keyframes, modes, seeds, guidance, strength, words."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deforum.config.settings_io import load
from deforum.integrations.wan.plan import (
    NO_CONTINUITY,
    format_plan,
    frames_4n1,
    model_size,
    parse_resolution,
    plan_clips,
    split_lengths,
)
from deforum.models.settings import Settings, SettingsError
from tests.conftest import ROOT

BASE = load(ROOT / "default_settings.txt").replace(
    animation_mode="Wan Video", max_frames=100, prompts={"0": "a cat", "40": "a dog", "70": "a bunny"},
    animation_prompts_positive="", animation_prompts_negative="", seed_behavior="iter", wan_seed=-1)


def wan(**changes) -> Settings:
    """The base Wan settings with changes."""
    return BASE.replace(**changes)


@pytest.mark.parametrize(("count", "expected"), [(0, 5), (1, 5), (5, 5), (6, 9), (9, 9), (10, 13), (80, 81), (82, 85)])
def test_frames_4n1(count, expected):
    assert frames_4n1(count) == expected


@given(st.integers(min_value=0, max_value=2000))
def test_frames_4n1_is_the_smallest_valid_count(count):
    made = frames_4n1(count)
    assert made % 4 == 1 and made >= max(count, 5)
    assert made == 5 or made - 4 < count


@given(st.integers(min_value=1, max_value=1000), st.integers(min_value=1, max_value=100))
def test_split_lengths(length, most):
    parts = split_lengths(length, most)
    assert sum(parts) == length and max(parts) <= most and max(parts) - min(parts) <= 1
    assert len(parts) == -(-length // most)


@settings(max_examples=40, deadline=None)
@given(max_frames=st.integers(min_value=1, max_value=400),
       keyframes=st.sets(st.integers(min_value=0, max_value=450), max_size=6),
       continuity=st.booleans(), cap=st.sampled_from([9, 17, 81]))
def test_clips_tile_the_render_and_respect_the_model(max_frames, keyframes, continuity, cap):
    prompts = {str(frame): f"prompt {frame}" for frame in keyframes | {0}}
    plan = plan_clips(wan(max_frames=max_frames, prompts=prompts,
                          wan_i2v_model="Use Primary Model" if continuity else NO_CONTINUITY), 5,
                      max_clip_frames=cap)
    clips = plan.clips
    assert clips[0].start == 0 and clips[-1].end == max_frames
    assert all(a.end == b.start for a, b in zip(clips, clips[1:], strict=False))
    assert {frame for frame in keyframes if frame < max_frames} <= {c.start for c in clips}
    for clip in clips:
        assert clip.length >= 1 and clip.num_frames % 4 == 1 and clip.num_frames >= 5
        assert clip.skip + clip.length <= clip.num_frames <= cap
        assert clip.num_frames == 5 or clip.num_frames - 4 < clip.skip + clip.length
        assert clip.prompt.startswith(prompts[str(clip.keyframe)])


def test_each_keyframe_starts_a_clip_and_the_last_uses_the_real_remaining_frames():
    plan = plan_clips(wan(), 5)
    assert [(c.start, c.length, c.num_frames) for c in plan.clips] == [(0, 40, 41), (40, 30, 33), (70, 30, 33)]
    assert [(c.mode, c.source) for c in plan.clips] == [("t2v", "text"), ("i2v", "previous"), ("i2v", "previous")]


def test_no_continuity_makes_every_clip_from_text():
    plan = plan_clips(wan(wan_i2v_model=NO_CONTINUITY), 5)
    assert {(c.mode, c.source, c.skip) for c in plan.clips} == {("t2v", "text", 0)}
    assert [c.num_frames for c in plan.clips] == [41, 33, 33]


def test_an_init_image_starts_the_first_clip():
    plan = plan_clips(wan(use_init=True, init_image="init.png"), 5)
    assert (plan.clips[0].mode, plan.clips[0].source, plan.clips[0].skip) == ("i2v", "init", 0)


def test_a_long_prompt_span_is_cut_into_chained_parts():
    plan = plan_clips(wan(max_frames=200, prompts={"0": "a cat"}), 5)
    assert [(c.start, c.length, c.part, c.parts) for c in plan.clips] == [(0, 67, 1, 3), (67, 67, 2, 3),
                                                                           (134, 66, 3, 3)]
    assert any("3 chained clips" in note for note in plan.notes)


@pytest.mark.parametrize(("behavior", "expected"), [
    ("iter", [5, 6, 7]), ("fixed", [5, 5, 5]), ("ladder", [5, 7, 6]), ("alternate", [5, 6, 5]),
])
def test_seeds_follow_the_seed_behaviour(behavior, expected):
    assert [c.seed for c in plan_clips(wan(seed_behavior=behavior), 5).clips] == expected


def test_random_seeds_differ_per_clip_and_repeat_per_run():
    seeds = [c.seed for c in plan_clips(wan(seed_behavior="random"), 5).clips]
    assert seeds[0] == 5 and len(set(seeds)) == 3
    assert seeds == [c.seed for c in plan_clips(wan(seed_behavior="random"), 5).clips]


def test_seed_schedule_is_read_at_each_clip_start():
    plan = plan_clips(wan(seed_behavior="schedule", seed_schedule="0:(11), 40:(22), 70:(33)"), 5)
    assert [c.seed for c in plan.clips] == [11, 22, 33]


def test_wan_seed_replaces_the_run_seed():
    assert [c.seed for c in plan_clips(wan(wan_seed=1000), 5).clips] == [1000, 1001, 1002]


def test_guidance_and_strength_overrides_or_schedules():
    fixed = plan_clips(wan(wan_guidance_scale=4.5, wan_fixed_strength=0.6), 5).clips[1]
    assert (fixed.guidance_scale, fixed.strength) == (4.5, 0.6)
    scheduled = plan_clips(wan(wan_guidance_override=False, wan_strength_override=False,
                               cfg_scale_schedule="0:(3), 40:(9)", strength_schedule="0:(0.2), 40:(0.8)"), 5)
    assert [(c.guidance_scale, c.strength) for c in scheduled.clips][:2] == [(3.0, 0.2), (9.0, 0.8)]


def test_steps_fps_and_resolution():
    plan = plan_clips(wan(wan_inference_steps=7, fps=24, wan_resolution="850x470 (Landscape)"), 5)
    assert (plan.steps, plan.fps, plan.width, plan.height) == (7, 24.0, 848, 464)
    assert any("rounded to 848x464" in note for note in plan.notes)


@pytest.mark.parametrize(("text", "size"), [("864x480", (864, 480)), ("1280x720 (Landscape)", (1280, 720)),
                                            ("480 × 864 (Portrait)", (480, 864))])
def test_parse_resolution(text, size):
    assert parse_resolution(text) == size
    assert model_size(*size) == size


def test_a_bad_resolution_names_the_setting():
    with pytest.raises(SettingsError, match="wan_resolution"):
        plan_clips(wan(wan_resolution="large"), 5)


def test_motion_words_are_appended_to_the_prompt_when_motion_strength_is_on():
    moving = wan(translation_x="0:(1)", translation_z="0:(0)", zoom="0:(1)")
    clip = plan_clips(moving, 5).clips[0]
    assert clip.prompt == "a cat. camera pans right slowly" and clip.motion == "camera pans right slowly"
    assert clip.motion_intensity == pytest.approx(1 / 3)
    off = plan_clips(moving.replace(wan_motion_strength=0), 5).clips[0]
    assert (off.prompt, off.motion, off.motion_intensity) == ("a cat", "", 0.0)


def test_fork_motion_keys_from_the_file_are_honoured():
    data = {**BASE.to_flat(), "translation_x": "0:(0.2)", "translation_z": "0:(0)", "zoom": "0:(1)"}
    sensitive = Settings.from_dict({**data, "wan_movement_sensitivity": 2.0})
    assert plan_clips(sensitive, 5).clips[0].motion == "camera pans right slowly"
    written = Settings.from_dict({**data, "wan_movement_description": "slow orbit\nignored line"})
    assert plan_clips(written, 5).clips[0].prompt == "a cat. slow orbit"
    fixed = Settings.from_dict({**data, "wan_motion_strength_override": True, "wan_motion_strength": 1.5})
    assert plan_clips(fixed, 5).clips[0].motion_intensity == 1.5


def test_prompt_sources_in_order_of_preference():
    assert plan_clips(wan(), 5).prompt_source == "prompts"
    with_wan = wan(wan_prompts={"0": "wan cat", "50": "wan dog --neg blur"})
    plan = plan_clips(with_wan, 5)
    assert plan.prompt_source == "wan_prompts" and [c.start for c in plan.clips] == [0, 50]
    assert plan.clips[1].negative == "blur"
    enhanced = Settings.from_dict({**with_wan.to_flat(), "wan_enhanced_prompts": json.dumps({"0": "rich cat"})})
    plan = plan_clips(enhanced, 5)
    assert plan.prompt_source == "wan_enhanced_prompts"
    assert {c.prompt.split(".")[0] for c in plan.clips} == {"rich cat"}


def test_shared_prompts_are_merged_and_backticks_read_at_the_clip_start():
    plan = plan_clips(wan(prompts={"0": "cat `t`", "40": "dog `t`"}, animation_prompts_positive="photo",
                          animation_prompts_negative="ugly", wan_motion_strength=0), 5)
    assert [(c.prompt, c.negative) for c in plan.clips] == [("photo cat 0", "ugly"), ("photo dog 40", "ugly")]


def test_bad_enhanced_prompts_name_the_setting():
    broken = Settings.from_dict({**BASE.to_flat(), "wan_enhanced_prompts": "{not json"})
    with pytest.raises(SettingsError, match="wan_enhanced_prompts"):
        plan_clips(broken, 5)


def test_the_plan_prints_one_line_per_clip():
    text = format_plan(plan_clips(wan(), 5))
    assert text.splitlines()[0].startswith("Wan plan: 3 clip(s), 100 frames")
    assert "clip 1: frames 40-69 (30 written of 33 made), i2v from previous (2 overlap), seed 6" in text


def test_the_forge_fork_default_file_plans_one_clip_per_wan_prompt():
    path = ROOT.parent / "shared" / "compat" / "forge-fork" / "default_settings.txt"
    if not path.is_file():
        pytest.skip("shared/compat/forge-fork is not present")
    settings = load(path).replace(animation_mode="Wan Video")
    plan = plan_clips(settings, 5)
    assert plan.prompt_source == "wan_prompts" and len(plan.clips) == len(settings.forge.wan_prompts)
    assert sum(c.length for c in plan.clips) == settings.anim.max_frames == 334
    assert (plan.width, plan.height, plan.fps) == (864, 480, 60.0)


def test_a_bad_fork_sensitivity_names_the_setting():
    with pytest.raises(SettingsError, match="wan_movement_sensitivity"):
        Settings.from_dict({**BASE.to_flat(), "wan_movement_sensitivity": "high"})
