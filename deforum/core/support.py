"""Fail fast, naming the setting, when a settings file asks for a feature this build cannot render yet."""

from __future__ import annotations

from collections.abc import Collection

from deforum.models.modes import ANIMATION_MODES, MODES, traits
from deforum.models.settings import Settings, SettingsError


def _mode_message(mode: str) -> str:
    """Why the frame engine does not render this animation mode."""
    if mode in MODES:
        return (f"{mode!r} is rendered by the Wan renderer (`python -m deforum render` and the WebUI tab choose "
                "it), not the frame engine")
    return f"{mode!r} is not supported; use one of {', '.join(ANIMATION_MODES)}"


def unsupported_features(settings: Settings, handled: Collection[str] = ()) -> list[str]:
    """One message per enabled feature the engine does not render yet, each naming the setting to change.

    `handled` names the features that render hooks take care of ('parseq_manifest', 'cn_N_enabled').
    """
    anim = settings.anim
    frame_engine = anim.animation_mode in MODES and traits(anim.animation_mode).frame_by_frame
    checks = [
        (not frame_engine, "animation_mode", _mode_message(anim.animation_mode)),
        (bool((settings.parseq.parseq_manifest or "").strip()), "parseq_manifest",
         "Parseq manifests are not supported yet; clear parseq_manifest"),
        (any(getattr(settings.controlnet, f"cn_{n}_enabled") for n in range(1, 6)), "cn_N_enabled",
         "ControlNet units are not supported yet; disable them"),
    ]
    return [f"Setting '{key}': {message}." for active, key, message in checks if active and key not in handled]


def check_supported(settings: Settings, handled: Collection[str] = ()) -> None:
    """Raise one SettingsError listing every unsupported feature the settings enable (hooks' features aside)."""
    problems = unsupported_features(settings, handled)
    if problems:
        raise SettingsError(problems, "this render")


def needs_depth(settings: Settings) -> bool:
    """3D depth warping, saved depth maps or a hybrid depth mask need a depth model."""
    anim = settings.anim
    hybrid_depth = anim.hybrid_composite != "None" and anim.hybrid_comp_mask_type in ("Depth", "Video Depth")
    return (traits(anim.animation_mode).depth_warp and anim.use_depth_warping) or anim.save_depth_maps or hybrid_depth


def needs_human_matting(settings: Settings) -> bool:
    """Hybrid video in use with hybrid_generate_human_masks on (Interpolation mode ignores hybrid video)."""
    anim = settings.anim
    hybrid = anim.hybrid_composite != "None" or anim.hybrid_motion != "None"
    return hybrid and anim.hybrid_generate_human_masks != "None" and traits(anim.animation_mode).hybrid


def needs_raft(settings: Settings) -> bool:
    """RAFT optical flow for cadence (above 1), redo generation or hybrid motion."""
    anim = settings.anim
    return ((anim.optical_flow_cadence == "RAFT" and anim.diffusion_cadence > 1)
            or anim.optical_flow_redo_generation == "RAFT"
            or (anim.hybrid_motion == "Optical Flow" and anim.hybrid_flow_method == "RAFT"))
