"""Which settings the tab shows for the current choices (the original's show/hide rules), as pure data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

OLD_DEPTH = ("midas+adabins (old)", "zoe+adabins (old)")
# The samplers whose eta the ancestral ETA schedule sets (as the original listed them).
ANCESTRAL_SAMPLERS = ("euler a", "dpm++ 2s a", "dpm2 a", "dpm2 a karras", "dpm++ 2s a karras")
PERSPECTIVE = ("perspective_flip_theta", "perspective_flip_phi", "perspective_flip_gamma", "perspective_flip_fv")
ONLY_2D = ("angle", "zoom", "transform_center_x", "transform_center_y")
ONLY_3D = ("translation_z", "rotation_3d_x", "rotation_3d_y", "rotation_3d_z", "fov_schedule", "near_schedule",
           "far_schedule", "depth_algorithm", "padding_mode", "sampling_mode", "use_depth_warping",
           "aspect_ratio_use_old_formula")
VIDEO_OUTPUT = ("fps", "make_gif", "delete_imgs", "delete_input_frames", "add_soundtrack", "soundtrack_path",
                "r_upscale_video", "r_upscale_model", "r_upscale_factor", "r_upscale_keep_imgs")
INTERPOLATION = ("frame_interpolation_x_amount", "frame_interpolation_slow_mo_enabled",
                 "frame_interpolation_keep_imgs", "frame_interpolation_use_upscaled")
HYBRID_FLOW = ("hybrid_flow_method", "hybrid_flow_factor_schedule", "hybrid_flow_consistency",
               "hybrid_consistency_blur", "hybrid_motion_use_prev_img")
HYBRID_MASK = ("hybrid_comp_mask_blend_alpha_schedule", "hybrid_comp_mask_contrast_schedule",
               "hybrid_comp_mask_auto_contrast_cutoff_high_schedule",
               "hybrid_comp_mask_auto_contrast_cutoff_low_schedule")


@dataclass(frozen=True)
class Rule:
    """Show `targets` when `shown(value of trigger)` is true."""

    trigger: str
    targets: tuple[str, ...]
    shown: Callable[[Any], bool]


def _is(choice: str) -> Callable[[Any], bool]:
    """True when the value is choice."""
    return lambda value: value == choice


def _is_not(choice: str) -> Callable[[Any], bool]:
    """True unless the value is choice."""
    return lambda value: value != choice


RULES: tuple[Rule, ...] = (
    Rule("seed_behavior", ("seed_iter_N",), _is("iter")),
    Rule("seed_behavior", ("seed_schedule",), _is("schedule")),
    Rule("noise_type", ("perlin_octaves", "perlin_persistence"), _is("perlin")),
    Rule("color_coherence", ("color_coherence_image_path",), _is("Image")),
    Rule("color_coherence", ("color_coherence_video_every_N_frames",), _is("Video Input")),
    Rule("sampler", ("enable_ddim_eta_scheduling",), lambda value: str(value).lower() == "ddim"),
    Rule("sampler", ("enable_ancestral_eta_scheduling",), lambda value: str(value).lower() in ANCESTRAL_SAMPLERS),
    Rule("enable_ddim_eta_scheduling", ("ddim_eta_schedule",), bool),
    Rule("enable_ancestral_eta_scheduling", ("ancestral_eta_schedule",), bool),
    Rule("enable_perspective_flip", PERSPECTIVE, bool),
    Rule("aspect_ratio_use_old_formula", ("aspect_ratio_schedule",), lambda value: not value),
    Rule("depth_algorithm", ("midas_weight",), lambda value: str(value).lower() in OLD_DEPTH),
    Rule("depth_algorithm", ("help_leres",), lambda value: str(value).lower() == "leres"),
    Rule("optical_flow_cadence", ("cadence_flow_factor_schedule",), _is_not("None")),
    Rule("optical_flow_redo_generation", ("redo_flow_factor_schedule",), _is_not("None")),
    Rule("hybrid_motion", HYBRID_FLOW, _is("Optical Flow")),
    Rule("hybrid_comp_mask_type", HYBRID_MASK, _is_not("None")),
    Rule("skip_video_creation", VIDEO_OUTPUT, lambda value: not value),
    Rule("frame_interpolation_engine", INTERPOLATION, _is_not("None")),
    Rule("frame_interpolation_slow_mo_enabled", ("frame_interpolation_slow_mo_amount",), bool),
    Rule("animation_mode", ("max_frames",), _is_not("Video Input")),
    Rule("animation_mode", ONLY_2D, _is("2D")),
    Rule("animation_mode", ONLY_3D, _is("3D")),
    Rule("animation_mode", ("help_depth_2d",), _is_not("3D")),
)


def visibility(values: Mapping[str, Any], rules: tuple[Rule, ...] = RULES) -> dict[str, bool]:
    """Whether each ruled setting is shown, for the given values (by key)."""
    return {target: bool(rule.shown(values[rule.trigger])) for rule in rules if rule.trigger in values
            for target in rule.targets}


def rules_by_trigger(rules: tuple[Rule, ...] = RULES) -> dict[str, list[Rule]]:
    """The rules grouped by the setting that drives them."""
    grouped: dict[str, list[Rule]] = {}
    for rule in rules:
        grouped.setdefault(rule.trigger, []).append(rule)
    return grouped
