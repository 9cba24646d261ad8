"""What each animation mode does: one table, consulted by the engine, its steps, the run and masking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["ANIMATION_MODES", "MODES", "AnimationMode", "ModeTraits", "traits"]

AnimationMode = Literal["2D", "3D", "Video Input", "Interpolation", "Wan Video"]
ANIMATION_MODES: tuple[AnimationMode, ...] = get_args(AnimationMode)


@dataclass(frozen=True)
class ModeTraits:
    """The behaviour of one animation mode, as the original extension (and the Forge fork for Wan) had it."""

    camera_motion: bool  # the previous frame is warped by the 2D/3D camera schedules (and guided images apply)
    depth_warp: bool  # the warp uses a depth map (3D)
    cadence: bool  # diffusion_cadence makes in-between frames
    video_init: bool  # each frame starts from the init video's frame (Video Input)
    blends_prompts: bool  # prompts are blended between keyframes; no colour match, masks or hybrid (Interpolation)
    hybrid: bool  # hybrid video composites and motion can apply
    frame_by_frame: bool  # rendered by the frame engine (False: whole clips, Wan)


MODES: dict[AnimationMode, ModeTraits] = {
    "2D": ModeTraits(camera_motion=True, depth_warp=False, cadence=True, video_init=False, blends_prompts=False,
                     hybrid=True, frame_by_frame=True),
    "3D": ModeTraits(camera_motion=True, depth_warp=True, cadence=True, video_init=False, blends_prompts=False,
                     hybrid=True, frame_by_frame=True),
    "Video Input": ModeTraits(camera_motion=False, depth_warp=False, cadence=False, video_init=True,
                              blends_prompts=False, hybrid=True, frame_by_frame=True),
    "Interpolation": ModeTraits(camera_motion=False, depth_warp=False, cadence=False, video_init=False,
                                blends_prompts=True, hybrid=False, frame_by_frame=True),
    "Wan Video": ModeTraits(camera_motion=False, depth_warp=False, cadence=False, video_init=False,
                            blends_prompts=False, hybrid=False, frame_by_frame=False),
}


def traits(mode: str) -> ModeTraits:
    """The traits of an animation mode (ValueError naming the setting for an unknown one)."""
    try:
        return MODES[mode]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"Setting 'animation_mode': {mode!r} is not one of {', '.join(ANIMATION_MODES)}.") from None
