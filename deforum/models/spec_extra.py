"""Spec tables: the five ControlNet units and the Forge fork's extra settings."""

from deforum.models.fields import (
    BOOL,
    CHOICE,
    FLOAT,
    INT,
    LOOSE_CHOICE,
    MAPPING,
    SCHEDULE,
    STR,
    STR_SCHEDULE,
    F,
    FieldSpec,
)

CONTROLNET_UNITS = 5
CN_RESIZE_MODES = ("Inner Fit (Scale to Fit)", "Outer Fit (Shrink to Fit)", "Just Resize")
CN_CONTROL_MODES = ("Balanced", "My prompt is more important", "ControlNet is more important")


def _controlnet_unit(n: int) -> tuple[FieldSpec, ...]:
    """The 17 keys of ControlNet unit `n`, in the original's order."""
    p = f"cn_{n}_"
    return (
        F(p + "overwrite_frames", BOOL, True),
        F(p + "vid_path", STR, ""),
        F(p + "mask_vid_path", STR, ""),
        F(p + "enabled", BOOL, False),
        F(p + "low_vram", BOOL, False),
        F(p + "pixel_perfect", BOOL, False),
        F(p + "module", STR, "none"),
        F(p + "model", STR, "None"),
        F(p + "weight", SCHEDULE, "0:(1)"),
        F(p + "guidance_start", SCHEDULE, "0:(0.0)"),
        F(p + "guidance_end", SCHEDULE, "0:(1.0)"),
        F(p + "processor_res", INT, 64, minimum=0, maximum=8192),
        F(p + "threshold_a", FLOAT, 64),
        F(p + "threshold_b", FLOAT, 64),
        F(p + "resize_mode", CHOICE, "Inner Fit (Scale to Fit)", choices=CN_RESIZE_MODES),
        F(p + "control_mode", CHOICE, "Balanced", choices=CN_CONTROL_MODES),
        F(p + "loopback_mode", BOOL, False),
    )


CONTROLNET_FIELDS: tuple[FieldSpec, ...] = tuple(
    spec for n in range(1, CONTROLNET_UNITS + 1) for spec in _controlnet_unit(n)
)

SHAKE_NAMES = (
    "NONE", "INVESTIGATION", "THE_CLOSEUP", "THE_WEDDING", "WALK_TO_THE_STORE", "HANDYCAM_RUN",
    "OUT_CAR_WINDOW", "BIKE_ON_GRAVEL_2D", "SPACESHIP_SHAKE_2D", "THE_ZEEK_2D",
)
KEYFRAME_DISTRIBUTIONS = ("Off", "Keyframes Only", "Additive", "Redistributed")
UPSCALE_METHODS = ("bicubic", "nearest-exact", "bilinear", "area", "bislerp")

FORGE_FIELDS: tuple[FieldSpec, ...] = (
    F("scheduler", STR, "Automatic"),
    F("keyframe_distribution", CHOICE, "Off", choices=KEYFRAME_DISTRIBUTIONS),
    F("wan_prompts", MAPPING, {}),
    F("shake_name", LOOSE_CHOICE, "NONE", choices=SHAKE_NAMES),
    F("shake_intensity", FLOAT, 1.0, minimum=0),
    F("shake_speed", FLOAT, 1.0, minimum=0),
    F("keyframe_strength_schedule", SCHEDULE, "0: (0.20)"),
    F("distilled_cfg_scale_schedule", SCHEDULE, "0: (3.5)"),
    F("enable_scheduler_scheduling", BOOL, False),
    F("scheduler_schedule", STR_SCHEDULE, '0: ("Simple")'),
    F("image_keyframe_strength_schedule", SCHEDULE, "0:(0.20)"),
    F("freeu_enabled", BOOL, False),
    F("freeu_b1", SCHEDULE, "0:(1.3)"),
    F("freeu_b2", SCHEDULE, "0:(1.4)"),
    F("freeu_s1", SCHEDULE, "0:(0.9)"),
    F("freeu_s2", SCHEDULE, "0:(0.2)"),
    F("kohya_hrfix_enabled", BOOL, False),
    F("kohya_hrfix_block_number", SCHEDULE, "0:(1)"),
    F("kohya_hrfix_downscale_factor", SCHEDULE, "0:(2.0)"),
    F("kohya_hrfix_start_percent", SCHEDULE, "0:(0.0)"),
    F("kohya_hrfix_end_percent", SCHEDULE, "0:(0.35)"),
    F("kohya_hrfix_downscale_after_skip", BOOL, False),
    F("kohya_hrfix_downscale_method", CHOICE, "bicubic", choices=UPSCALE_METHODS),
    F("kohya_hrfix_upscale_method", CHOICE, "bicubic", choices=UPSCALE_METHODS),
    F("wan_t2v_model", STR, "1.3B VACE"),
    F("wan_i2v_model", STR, "Use Primary Model"),
    F("wan_auto_download", BOOL, True),
    F("wan_preferred_size", STR, "1.3B VACE (Recommended)"),
    F("wan_model_path", STR, "models/wan"),
    F("wan_resolution", STR, "864x480"),
    F("wan_seed", INT, -1, minimum=-1, maximum=2**32 - 1),
    F("wan_inference_steps", INT, 20, minimum=1, maximum=10000),
    F("wan_guidance_scale", FLOAT, 7.5, minimum=0),
    F("wan_strength_override", BOOL, True),
    F("wan_fixed_strength", FLOAT, 1.0, minimum=0, maximum=1),
    F("wan_guidance_override", BOOL, True),
    F("wan_frame_overlap", INT, 2, minimum=0, maximum=1_000_000),
    F("wan_motion_strength", FLOAT, 1.0, minimum=0),
    F("wan_enable_interpolation", BOOL, True),
    F("wan_interpolation_strength", FLOAT, 0.5, minimum=0, maximum=1),
    F("wan_flash_attention_mode", STR, "Auto (Recommended)"),
    F("wan_qwen_model", STR, "Auto-Select"),
    F("wan_qwen_language", STR, "English"),
    F("wan_qwen_auto_download", BOOL, True),
    F("wan_enhanced_prompts", STR, ""),
    F("wan_movement_description", STR, ""),
    F("wan_movement_sensitivity", FLOAT, 1.0, minimum=0, exclusive_minimum=True),
    F("wan_motion_strength_override", BOOL, False),
)
