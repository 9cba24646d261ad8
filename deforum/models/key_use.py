"""The one table of settings the frame render does not always read, each with its reason, and the notices it gives.

Every other key of a settings file is read by every frame-by-frame render (`tests/models/test_key_use.py` records
the reads of preview renders of both default files and fails on a key that is neither read nor declared here).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from deforum.models.fields import FieldSpec
from deforum.models.spec_extra import CONTROLNET_UNITS
from deforum.models.spec_forge import FORGE_FIELDS

KeyUseKind = Literal["switch", "mode", "host", "post", "front", "ui", "ignored"]
Host = Literal["standalone", "a1111", "forge"]

KIND_WORDS: dict[KeyUseKind, str] = {
    "switch": "read only when {when}",
    "mode": "used only by the {when} mode",
    "host": "used only {when}",
    "post": "used after the frames by post-processing ({when})",
    "front": "read by the front end before the render ({when})",
    "ui": "used only by the tab ({when})",
    "ignored": "kept in files only; {when}",
}


@dataclass(frozen=True)
class KeyUse:
    """Why one setting is not read by every render: its kind, the condition in words, the settings that enable it
    (a switch's `enable` is what the key-walk test sets to see the key read; "<manifest>" stands for any manifest)."""

    kind: KeyUseKind
    when: str
    enable: Mapping[str, Any] = field(default_factory=dict)
    modes: tuple[str, ...] = ()
    hosts: tuple[Host, ...] = ()

    @property
    def reason(self) -> str:
        """The reason in words, as the notices and the tab show it."""
        return KIND_WORDS[self.kind].format(when=self.when)


def _switch(keys: Iterable[str], when: str, **enable: Any) -> dict[str, KeyUse]:
    """Entries for keys read only once the settings in `enable` are set."""
    return {key: KeyUse("switch", when, enable=enable) for key in keys}


def _kind(kind: KeyUseKind, keys: Iterable[str], when: str) -> dict[str, KeyUse]:
    """Entries of one kind sharing one reason."""
    return {key: KeyUse(kind, when) for key in keys}


_SCHEDULING = {
    "ancestral_eta_schedule": "enable_ancestral_eta_scheduling", "ddim_eta_schedule": "enable_ddim_eta_scheduling",
    "clipskip_schedule": "enable_clipskip_scheduling", "checkpoint_schedule": "enable_checkpoint_scheduling",
    "sampler_schedule": "enable_sampler_scheduling", "steps_schedule": "enable_steps_scheduling",
    "scheduler_schedule": "enable_scheduler_scheduling",
}
_GUIDED = ("init_images", "image_strength_schedule", "blendFactorMax", "blendFactorSlope", "tweening_frames_schedule",
           "color_correction_factor")
_MASK = ("mask_file", "mask_brightness_adjust", "mask_contrast_adjust", "overlay_mask", "mask_schedule")
_HYBRID = ("hybrid_comp_alpha_schedule", "hybrid_comp_mask_type", "hybrid_comp_mask_inverse",
           "hybrid_comp_mask_equalize", "hybrid_comp_mask_auto_contrast", "hybrid_comp_save_extra_frames",
           "hybrid_use_first_frame_as_init_image", "hybrid_generate_inputframes")
_HYBRID_MASK = ("hybrid_comp_mask_blend_alpha_schedule", "hybrid_comp_mask_contrast_schedule",
                "hybrid_comp_mask_auto_contrast_cutoff_high_schedule",
                "hybrid_comp_mask_auto_contrast_cutoff_low_schedule")
_HYBRID_FLOW = ("hybrid_flow_method", "hybrid_flow_factor_schedule", "hybrid_flow_consistency",
                "hybrid_consistency_blur", "hybrid_motion_use_prev_img")
_CN_PARTS = ("overwrite_frames", "vid_path", "mask_vid_path", "low_vram", "pixel_perfect", "module", "model",
             "weight", "guidance_start", "guidance_end", "processor_res", "threshold_a", "threshold_b",
             "resize_mode", "control_mode", "loopback_mode")
_FREEU = ("freeu_b1", "freeu_b2", "freeu_s1", "freeu_s2")
_KOHYA = ("kohya_hrfix_block_number", "kohya_hrfix_downscale_factor", "kohya_hrfix_start_percent",
          "kohya_hrfix_end_percent", "kohya_hrfix_downscale_after_skip", "kohya_hrfix_downscale_method",
          "kohya_hrfix_upscale_method")
_WAN = ("wan_t2v_model", "wan_i2v_model", "wan_preferred_size", "wan_model_path", "wan_resolution", "wan_seed",
        "wan_inference_steps", "wan_guidance_scale", "wan_strength_override", "wan_fixed_strength",
        "wan_guidance_override", "wan_frame_overlap", "wan_motion_strength", "wan_enable_interpolation",
        "wan_interpolation_strength", "wan_flash_attention_mode", "wan_prompts", "wan_movement_description",
        "wan_movement_sensitivity", "wan_motion_strength_override", "wan_qwen_model")
_POST = ("frame_interpolation_engine", "frame_interpolation_x_amount", "frame_interpolation_slow_mo_enabled",
         "frame_interpolation_slow_mo_amount", "frame_interpolation_keep_imgs", "frame_interpolation_use_upscaled",
         "r_upscale_video", "r_upscale_model", "r_upscale_factor", "r_upscale_keep_imgs")


def _controlnet() -> dict[str, KeyUse]:
    """Each ControlNet unit's keys: read once the unit is enabled."""
    entries: dict[str, KeyUse] = {}
    for n in range(1, CONTROLNET_UNITS + 1):
        keys = [f"cn_{n}_{part}" for part in _CN_PARTS]
        entries |= _switch(keys, f"ControlNet unit {n} is enabled (cn_{n}_enabled)", **{f"cn_{n}_enabled": True})
    return entries


KEY_USES: dict[str, KeyUse] = {
    **{key: KeyUse("switch", f"{switch} is on", enable={switch: True}) for key, switch in _SCHEDULING.items()},
    **_switch(("subseed_schedule", "subseed_strength_schedule"), "enable_subseed_scheduling is on",
              enable_subseed_scheduling=True),
    **_switch(("seed_schedule",), "seed_behavior is 'schedule'", seed_behavior="schedule"),
    **_switch(("init_image", "strength"), "use_init is on", use_init=True),
    **_switch(("use_alpha_as_mask",), "use_init and use_mask are on", use_init=True, use_mask=True),
    **_switch(_MASK, "use_mask is on", use_mask=True),
    **_switch(("noise_mask_schedule",), "use_noise_mask is on", use_noise_mask=True),
    **_switch(("video_mask_path",), "use_mask_video is on", use_mask_video=True),
    **_switch(_GUIDED, "guided images are on (use_looper)", use_looper=True),
    **_switch(("color_coherence_image_path",), "color_coherence is 'Image'", color_coherence="Image"),
    **_switch(("color_coherence_video_every_N_frames",), "color_coherence is 'Video Input' with hybrid video",
              color_coherence="Video Input", hybrid_composite="Normal"),
    **_switch(("redo_flow_factor_schedule",), "optical_flow_redo_generation is not 'None'",
              optical_flow_redo_generation="DIS Fine"),
    **_switch(_HYBRID, "hybrid_composite is not 'None'", hybrid_composite="Normal"),
    **_switch(_HYBRID_MASK, "hybrid_composite is on with a hybrid_comp_mask_type",
              hybrid_composite="Normal", hybrid_comp_mask_type="Difference"),
    **_switch(_HYBRID_FLOW, "hybrid_motion is 'Optical Flow'", hybrid_motion="Optical Flow",
              hybrid_flow_method="Farneback"),
    **_switch(("parseq_use_deltas", "parseq_non_schedule_overrides"), "a Parseq manifest is set (parseq_manifest)",
              parseq_manifest="<manifest>"),
    **_switch(("keyframe_strength_schedule",), "keyframe_distribution is not 'Off' (2D and 3D)",
              keyframe_distribution="Additive"),
    **_switch(_FREEU, "freeu_enabled is on", freeu_enabled=True),
    **_switch(_KOHYA, "kohya_hrfix_enabled is on", kohya_hrfix_enabled=True),
    **_controlnet(),
    **{key: KeyUse("host", "in Forge or in a standalone render; A1111 has no FreeU, Kohya HR fix or distilled CFG "
                           "of its own, so it is skipped there", enable=enable, hosts=("forge", "standalone"))
       for key, enable in (("freeu_enabled", {"freeu_enabled": True}),
                           ("kohya_hrfix_enabled", {"kohya_hrfix_enabled": True}),
                           ("distilled_cfg_scale_schedule", {}))},
    "reroll_patience": KeyUse("switch", "reroll_blank_frames is 'reroll' and a frame comes out blank"),
    "audio_path": KeyUse("switch", "a schedule uses an audio variable (amp, onset, bass, mid, treble)"),
    "midas_weight": KeyUse("front", "when the 3D depth model is built, for MiDaS depth algorithms"),
    "hybrid_generate_human_masks": KeyUse("front", "when the models of a hybrid video render are built"),
    **{key: KeyUse("mode", "Wan Video", modes=("Wan Video",)) for key in _WAN},
    **_kind("post", _POST, "upscale and frame interpolation of the finished frames"),
    **_kind("front", ("resume_from_timestring", "resume_timestring"), "resume a run"),
    "show_info_on_ui": KeyUse("ui", "the help lines under the settings"),
    "wan_enhanced_prompts": KeyUse("ui", "the Qwen prompt enhancer's result, applied to wan_prompts from the tab"),
    "wan_qwen_language": KeyUse("ui", "the language of the Qwen prompt enhancer, run from the tab or the CLI"),
    "wan_auto_download": KeyUse("ignored", "the fork fetched missing Wan models; weights are fetched here by "
                                           "`python -m deforum models`"),
    "wan_qwen_auto_download": KeyUse("ignored", "the fork fetched missing Qwen models; weights are fetched here by "
                                                "`python -m deforum models`"),
    "image_keyframe_strength_schedule": KeyUse("ignored", "the fork stored it without using it either"),
    "store_frames_in_ram": KeyUse("ignored", "the original held the frames in memory until the end; here each "
                                                "frame is written as it is made"),
}


_FORGE_DEFAULTS = {spec.key: spec.default for spec in FORGE_FIELDS}
NOTED_KINDS: tuple[KeyUseKind, ...] = ("mode", "host", "ignored")
HOST_ONLY_KEYS: tuple[str, ...] = tuple(key for key, use in KEY_USES.items() if use.kind == "host")


@dataclass(frozen=True)
class KeyNotice:
    """One setting a run does not use: its key and why."""

    key: str
    reason: str


def unused_settings(present: Iterable[str], values: Mapping[str, Any], host: Host | None = None) -> list[KeyNotice]:
    """The keys given in a file (`present`) that this run ignores: other modes, other hosts, never used."""
    mode = values.get("animation_mode", "")
    notices = []
    for key in present:
        use = KEY_USES.get(key)
        if use is None:
            continue
        ignored = use.kind == "ignored"
        other_mode = use.kind == "mode" and mode not in use.modes
        other_host = use.kind == "host" and host is not None and host not in use.hosts and _enabled(key, use, values)
        if ignored or other_mode or other_host:
            notices.append(KeyNotice(key, use.reason if not other_mode else f"{use.reason}, not by {mode}"))
    return notices


def _enabled(key: str, use: KeyUse, values: Mapping[str, Any]) -> bool:
    """Whether a host-only feature is on: its enabling settings are set (without any: its value is not the default)."""
    if not use.enable:
        return key in values and values[key] != _FORGE_DEFAULTS[key]
    return all(values.get(name) == value for name, value in use.enable.items())


def host_notices(values: Mapping[str, Any], host: Host) -> list[KeyNotice]:
    """The host-only features switched on that `host` cannot honour (none when they are off or default)."""
    return unused_settings(HOST_ONLY_KEYS, values, host)


def notice_lines(notices: Iterable[KeyNotice]) -> list[str]:
    """The notices grouped by reason, one line each, every key named."""
    by_reason: dict[str, list[str]] = {}
    for notice in notices:
        by_reason.setdefault(notice.reason, []).append(notice.key)
    return [f"Not used by this run: {', '.join(keys)} ({reason})." for reason, keys in by_reason.items()]


def with_use_notes(specs: tuple[FieldSpec, ...]) -> tuple[FieldSpec, ...]:
    """The specs with the reason of each mode-, host-only or ignored key added to its help line (the tab's info)."""
    return tuple(dataclasses.replace(spec, info=f"{spec.info} ({KEY_USES[spec.key].reason})")
                 if spec.key in KEY_USES and KEY_USES[spec.key].kind in NOTED_KINDS else spec for spec in specs)
