"""Spec table: the Forge fork's extra settings (scheduler, Shakify, FreeU, Kohya HR fix, Wan), with their help."""

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

SHAKE_NAMES = (
    "NONE", "INVESTIGATION", "THE_CLOSEUP", "THE_WEDDING", "WALK_TO_THE_STORE", "HANDYCAM_RUN",
    "OUT_CAR_WINDOW", "BIKE_ON_GRAVEL_2D", "SPACESHIP_SHAKE_2D", "THE_ZEEK_2D",
)
KEYFRAME_DISTRIBUTIONS = ("Off", "Keyframes Only", "Additive", "Redistributed")
UPSCALE_METHODS = ("bicubic", "nearest-exact", "bilinear", "area", "bislerp")

_GENERAL_FIELDS: tuple[FieldSpec, ...] = (
    F("scheduler", STR, "Automatic", title="Schedule type",
      info="noise schedule of the sampler; Automatic lets the WebUI choose"),
    F("keyframe_distribution", CHOICE, "Off", choices=KEYFRAME_DISTRIBUTIONS,
      info="which frames are diffused: by cadence, only at prompt keyframes, or both"),
    F("wan_prompts", MAPPING, {}, title="Wan prompts", info="prompts for Wan clips, frame: text, as JSON"),
    F("shake_name", LOOSE_CHOICE, "NONE", choices=SHAKE_NAMES, title="Shake name",
      info="a recorded hand-held camera shake (Shakify) laid over the motion; NONE is off"),
    F("shake_intensity", FLOAT, 1.0, minimum=0, info="how strong the camera shake is; 1 as recorded"),
    F("shake_speed", FLOAT, 1.0, minimum=0, info="how fast the camera shake plays; 1 as recorded"),
    F("keyframe_strength_schedule", SCHEDULE, "0: (0.20)",
      info="strength used on prompt keyframes when keyframes are distributed"),
    F("distilled_cfg_scale_schedule", SCHEDULE, "0: (3.5)", title="Distilled CFG scale schedule",
      info="guidance for distilled models such as Flux, per frame"),
    F("enable_scheduler_scheduling", BOOL, False, info="change the schedule type per frame by the schedule below"),
    F("scheduler_schedule", STR_SCHEDULE, '0: ("Simple")', info="schedule type name per frame, in quotes"),
    F("image_keyframe_strength_schedule", SCHEDULE, "0:(0.20)",
      info="strength on keyframes that have a guide picture"),
)

_FREEU_KOHYA_FIELDS: tuple[FieldSpec, ...] = (
    F("freeu_enabled", BOOL, False, title="FreeU enabled", info="reweight the model's features (FreeU)"),
    F("freeu_b1", SCHEDULE, "0:(1.3)", info="FreeU backbone factor of the first stage, per frame"),
    F("freeu_b2", SCHEDULE, "0:(1.4)", info="FreeU backbone factor of the second stage, per frame"),
    F("freeu_s1", SCHEDULE, "0:(0.9)", info="FreeU skip factor of the first stage, per frame"),
    F("freeu_s2", SCHEDULE, "0:(0.2)", info="FreeU skip factor of the second stage, per frame"),
    F("kohya_hrfix_enabled", BOOL, False, title="Kohya HR fix enabled",
      info="shrink the model's inner image early on for large sizes (Kohya deep shrink)"),
    F("kohya_hrfix_block_number", SCHEDULE, "0:(1)", info="which model block is shrunk, per frame"),
    F("kohya_hrfix_downscale_factor", SCHEDULE, "0:(2.0)", info="how much that block is shrunk, per frame"),
    F("kohya_hrfix_start_percent", SCHEDULE, "0:(0.0)", info="share of the steps at which shrinking starts"),
    F("kohya_hrfix_end_percent", SCHEDULE, "0:(0.35)", info="share of the steps at which shrinking ends"),
    F("kohya_hrfix_downscale_after_skip", BOOL, False, info="shrink after the skip connection rather than before"),
    F("kohya_hrfix_downscale_method", CHOICE, "bicubic", choices=UPSCALE_METHODS, info="how the block is shrunk"),
    F("kohya_hrfix_upscale_method", CHOICE, "bicubic", choices=UPSCALE_METHODS, info="how it is grown back"),
)

_WAN_FIELDS: tuple[FieldSpec, ...] = (
    F("wan_t2v_model", STR, "1.3B VACE", title="Wan T2V model", info="Wan model that makes clips from text"),
    F("wan_i2v_model", STR, "Use Primary Model", title="Wan I2V model",
      info="Wan model that continues a clip from its last frame; or the text model"),
    F("wan_auto_download", BOOL, True, info="the fork fetched missing Wan models; here weights are never downloaded"),
    F("wan_preferred_size", STR, "1.3B VACE (Recommended)", info="model size the fork preferred when choosing"),
    F("wan_model_path", STR, "models/wan", info="folder searched for Wan models (diffusers format)"),
    F("wan_resolution", STR, "864x480", info="width x height of the Wan clips"),
    F("wan_seed", INT, -1, minimum=-1, maximum=2**32 - 1, title="Wan seed", info="seed of the Wan clips; -1 random"),
    F("wan_inference_steps", INT, 20, minimum=1, maximum=10000, info="sampling steps of each Wan clip"),
    F("wan_guidance_scale", FLOAT, 7.5, minimum=0, info="how strictly Wan follows the prompt"),
    F("wan_strength_override", BOOL, True, info="use the fixed strength below instead of the strength schedule"),
    F("wan_fixed_strength", FLOAT, 1.0, minimum=0, maximum=1, info="strength when the override is on"),
    F("wan_guidance_override", BOOL, True, info="use the Wan guidance scale instead of the CFG schedule"),
    F("wan_frame_overlap", INT, 2, minimum=0, maximum=1_000_000,
      info="frames shared between one clip and the next, for smooth joins"),
    F("wan_motion_strength", FLOAT, 1.0, minimum=0, info="how much movement Wan is asked for"),
    F("wan_enable_interpolation", BOOL, True, info="smooth the joins between clips with extra frames"),
    F("wan_interpolation_strength", FLOAT, 0.5, minimum=0, maximum=1, info="how strong that smoothing is"),
    F("wan_flash_attention_mode", STR, "Auto (Recommended)",
      info="whether Wan uses flash attention when present"),
    F("wan_qwen_model", STR, "Auto-Select", title="Wan Qwen model",
      info="Qwen language model that rewrites prompts for Wan"),
    F("wan_qwen_language", STR, "English", title="Wan Qwen language",
      info="language of the rewritten prompts"),
    F("wan_qwen_auto_download", BOOL, True, title="Wan Qwen auto download",
      info="the fork fetched missing Qwen models; here weights are never downloaded"),
    F("wan_enhanced_prompts", STR, "", info="the prompts as Qwen rewrote them (kept for reference)"),
    F("wan_movement_description", STR, "", info="the camera motion in words, added to the Wan prompts"),
    F("wan_movement_sensitivity", FLOAT, 1.0, minimum=0, exclusive_minimum=True,
      info="how readily motion schedules are described as movement"),
    F("wan_motion_strength_override", BOOL, False, info="use the motion strength above instead of the measured one"),
)

FORGE_FIELDS: tuple[FieldSpec, ...] = _GENERAL_FIELDS + _FREEU_KOHYA_FIELDS + _WAN_FIELDS
