"""What one run reads, built from its settings: schedules (with the music variables), prompts, frame plan, init
image, Camera Shakify; and the plan a render would follow, for `render --plan`."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from deforum.animation.keys import build_keys
from deforum.animation.shakify import find_shake, shake_offsets, shaken_keys
from deforum.animation.variables import ScheduleVariables
from deforum.core.inputs import RenderHook, RenderInputs
from deforum.core.music import schedule_variables
from deforum.core.plan import FramePlan, plan_render
from deforum.core.steps import frame_size
from deforum.media.frames_io import load_image_source
from deforum.models.modes import traits
from deforum.models.settings import Settings
from deforum.prompt.blend import build_interpolated_prompt_schedule
from deforum.prompt.schedule import build_prompt_schedule, keyframe_prompt_texts, prompt_keyframes

__all__ = ["init_image", "plan_of", "render_inputs", "settings_plan", "with_shake"]


def init_image(settings: Settings) -> np.ndarray | None:
    """The init image when use_init is on (resized to the frame size)."""
    a = settings.args
    if not a.use_init or not a.init_image:
        return None
    return load_image_source(a.init_image, frame_size(settings), setting="init_image")


def _prompt_schedule(settings: Settings, seed: int, variables: ScheduleVariables) -> tuple[tuple[str, str], ...]:
    """Per-frame prompts: blended between keyframes in Interpolation mode, else held."""
    build = build_interpolated_prompt_schedule if traits(settings.anim.animation_mode).blends_prompts \
        else build_prompt_schedule
    return build(settings.prompts, settings.anim.max_frames, positive=settings.animation_prompts_positive,
                 negative=settings.animation_prompts_negative, seed=seed, variables=variables)


def settings_plan(settings: Settings, seed: int, parseq_keyframes: Sequence[int] | None = None) -> FramePlan:
    """The frame plan of these settings: cadence, or the keyframe distribution over the prompt keyframes."""
    anim = settings.anim
    frames = [frame for frame, _, _ in prompt_keyframes(dict(settings.prompts), anim.max_frames - 1, seed)]
    return plan_render(anim.max_frames, anim.animation_mode, anim.diffusion_cadence,
                       settings.forge.keyframe_distribution, frames, parseq_keyframes)


def render_inputs(settings: Settings, seed: int, video_frames: tuple[Path, ...] = ()) -> RenderInputs:
    """Evaluate the schedules and prompts (with the music variables) and plan the frames for one run."""
    anim = settings.anim
    variables = schedule_variables(settings)
    return RenderInputs(
        settings=settings, keys=build_keys(settings.to_flat(), anim.max_frames, seed, variables),
        prompts=_prompt_schedule(settings, seed, variables),
        prompt_texts=keyframe_prompt_texts(settings.prompts, anim.max_frames,
                                           positive=settings.animation_prompts_positive,
                                           negative=settings.animation_prompts_negative, seed=seed),
        plan=settings_plan(settings, seed),
        base_seed=seed, init_image=init_image(settings), video_frames=video_frames,
        preview=settings.args.motion_preview_mode,
    )


def plan_of(settings: Settings, hooks: Sequence[RenderHook] = ()) -> FramePlan:
    """The plan a render of these settings follows (Parseq's frames and keyframes included), rendering nothing."""
    for hook in hooks:
        settings = hook.adjust_settings(settings)
    seed = max(0, settings.args.seed)
    anim = settings.anim
    variables = schedule_variables(settings)
    inputs = RenderInputs(settings=settings, keys=build_keys(settings.to_flat(), anim.max_frames, seed, variables),
                          prompts=_prompt_schedule(settings, seed, variables), plan=settings_plan(settings, seed),
                          base_seed=seed, preview=True)
    for hook in hooks:
        inputs = hook.decorate(inputs)
    return inputs.plan


def with_shake(inputs: RenderInputs) -> RenderInputs:
    """Camera Shakify on the 3D translation/rotation schedules when a keyframe distribution is on (as the fork)."""
    s = inputs.settings
    if not inputs.plan.warp_tweens or s.anim.animation_mode != "3D":
        return inputs
    shake = find_shake(s.forge.shake_name)
    if shake is None:
        return inputs
    offsets = shake_offsets(shake, inputs.keys.max_frames, s.output.fps, s.forge.shake_intensity,
                            s.forge.shake_speed)
    return dataclasses.replace(inputs, keys=shaken_keys(inputs.keys, offsets))
