"""Every schedule of a render evaluated once into per-frame arrays (the original's DeformAnimKeys and friends)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from deforum.animation.schedule_parse import ScheduleError, format_number
from deforum.animation.schedules import evaluate_schedule, evaluate_string_schedule
from deforum.animation.variables import NO_MUSIC, ScheduleVariables

_ANIMATION_SCHEDULES = (
    "angle", "transform_center_x", "transform_center_y", "zoom", "translation_x", "translation_y",
    "translation_z", "rotation_3d_x", "rotation_3d_y", "rotation_3d_z", "perspective_flip_theta",
    "perspective_flip_phi", "perspective_flip_gamma", "perspective_flip_fv", "noise_schedule",
    "strength_schedule", "contrast_schedule", "cfg_scale_schedule", "ddim_eta_schedule", "ancestral_eta_schedule",
    "pix2pix_img_cfg_scale_schedule", "subseed_schedule", "subseed_strength_schedule", "steps_schedule",
    "seed_schedule", "clipskip_schedule", "noise_multiplier_schedule", "kernel_schedule", "sigma_schedule",
    "amount_schedule", "threshold_schedule", "aspect_ratio_schedule", "fov_schedule", "near_schedule",
    "cadence_flow_factor_schedule", "redo_flow_factor_schedule", "far_schedule", "hybrid_comp_alpha_schedule",
    "hybrid_comp_mask_blend_alpha_schedule", "hybrid_comp_mask_contrast_schedule",
    "hybrid_comp_mask_auto_contrast_cutoff_high_schedule", "hybrid_comp_mask_auto_contrast_cutoff_low_schedule",
    "hybrid_flow_factor_schedule",
)
_LOOPER_SCHEDULES = (
    "image_strength_schedule", "blendFactorMax", "blendFactorSlope", "tweening_frames_schedule",
    "color_correction_factor",
)
_CONTROLNET_SCHEDULES = tuple(
    f"cn_{unit}_{part}" for unit in range(1, 6) for part in ("weight", "guidance_start", "guidance_end")
)
_FORGE_SCHEDULES = (
    "keyframe_strength_schedule", "distilled_cfg_scale_schedule", "image_keyframe_strength_schedule",
    "freeu_b1", "freeu_b2", "freeu_s1", "freeu_s2", "kohya_hrfix_block_number", "kohya_hrfix_downscale_factor",
    "kohya_hrfix_start_percent", "kohya_hrfix_end_percent",
)

NUMERIC_SCHEDULE_KEYS: tuple[str, ...] = (
    _ANIMATION_SCHEDULES + _LOOPER_SCHEDULES + _CONTROLNET_SCHEDULES + _FORGE_SCHEDULES
)
STRING_SCHEDULE_KEYS: tuple[str, ...] = (
    "checkpoint_schedule", "sampler_schedule", "mask_schedule", "noise_mask_schedule", "scheduler_schedule",
)
_EXTRA_CONTROLNET_UNIT = re.compile(r"cn_[0-9]+_(weight|guidance_start|guidance_end)")


@dataclass(frozen=True, eq=False)
class AnimationKeys:
    """Per-frame values of every schedule: numeric `series` (read-only float64 arrays) and `strings`."""

    max_frames: int
    series: Mapping[str, np.ndarray]
    strings: Mapping[str, tuple[str, ...]]

    def __getitem__(self, key: str) -> np.ndarray | tuple[str, ...]:
        """The per-frame values of one schedule by its settings key."""
        if key in self.series:
            return self.series[key]
        if key in self.strings:
            return self.strings[key]
        raise KeyError(f"no schedule named {key!r} was evaluated")

    def value(self, key: str, frame: int) -> float:
        """One numeric schedule's value at `frame`."""
        if key not in self.series:
            raise KeyError(f"no numeric schedule named {key!r} was evaluated")
        return float(self.series[key][frame])


def numeric_schedule_keys(values: Mapping[str, Any]) -> tuple[str, ...]:
    """The numeric schedule keys present in `values`, including ControlNet units beyond the fifth."""
    extra = tuple(key for key in values if key not in NUMERIC_SCHEDULE_KEYS and _EXTRA_CONTROLNET_UNIT.fullmatch(key))
    return tuple(key for key in NUMERIC_SCHEDULE_KEYS if key in values) + extra


def build_keys(values: Mapping[str, Any], max_frames: int, seed: int,
               variables: ScheduleVariables = NO_MUSIC) -> AnimationKeys:
    """Evaluate every schedule key present in a flat settings mapping for `max_frames` frames."""
    series = {key: _read_only(evaluate_schedule(_schedule_text(values[key], key), max_frames, seed=seed, name=key,
                                                variables=variables))
              for key in numeric_schedule_keys(values)}
    strings = {key: evaluate_string_schedule(_schedule_text(values[key], key), max_frames, name=key)
               for key in STRING_SCHEDULE_KEYS if key in values}
    return AnimationKeys(max_frames, MappingProxyType(series), MappingProxyType(strings))


def _schedule_text(value: Any, key: str) -> str:
    """Schedule text; a bare number is read as a constant schedule `0: (number)`."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"0: ({format_number(float(value))})"
    raise ScheduleError(f"the schedule must be text like '0: (1)', not {type(value).__name__}",
                        schedule_name=key)


def _read_only(array: np.ndarray) -> np.ndarray:
    """The array with writes disabled, so the keys stay immutable."""
    array.flags.writeable = False
    return array
