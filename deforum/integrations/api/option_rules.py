"""Which WebUI options a request's `options_overrides` may change: none that names a program, a path or a folder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deforum.integrations.api.paths import PathProblem, escapes

# Generation options (as the original's API examples changed them) and Deforum's own non-path options.
OVERRIDABLE_OPTIONS: frozenset[str] = frozenset({
    "sd_model_checkpoint", "sd_vae", "CLIP_stop_at_last_layers", "eta_ddim", "eta_ancestral", "eta_noise_seed_delta",
    "initial_noise_multiplier", "img2img_fix_steps", "img2img_color_correction", "s_churn", "s_tmin", "s_tmax",
    "s_noise", "s_min_uncond", "randn_source", "token_merging_ratio", "token_merging_ratio_img2img",
    "always_discard_next_to_last_sigma", "enable_emphasis", "comma_padding_backtrack", "upcast_attn",
    "deforum_keep_3d_models_in_vram", "deforum_ffmpeg_crf", "deforum_ffmpeg_preset", "deforum_debug_mode_enabled",
    "deforum_save_gen_info_as_srt", "deforum_embed_srt", "deforum_save_gen_info_as_srt_params", "deforum_preview",
    "deforum_preview_interval_frames",
})
MODEL_NAME_OPTIONS = ("sd_model_checkpoint", "sd_vae")
MAX_OPTION_TEXT = 1000


def check_option_overrides(overrides: Mapping[str, Any] | None) -> list[PathProblem]:
    """One problem per override that is not in OVERRIDABLE_OPTIONS, or that names a model by path."""
    problems: list[PathProblem] = []
    for key, value in (overrides or {}).items():
        if key not in OVERRIDABLE_OPTIONS:
            problems.append(PathProblem(key, f"Option '{key}' may not be changed by a request (options that name "
                                             "programs, paths or folders never can). Allowed: "
                                             f"{', '.join(sorted(OVERRIDABLE_OPTIONS))}."))
        elif isinstance(value, str) and len(value) > MAX_OPTION_TEXT:
            problems.append(PathProblem(key, f"Option '{key}': the value is {len(value)} characters long, the limit "
                                             f"is {MAX_OPTION_TEXT}."))
        elif key in MODEL_NAME_OPTIONS and (not isinstance(value, str) or escapes(value)):
            problems.append(PathProblem(key, f"Option '{key}': {value!r:.80} is not a model name (no absolute path, "
                                             "no '..'). Use the name the WebUI lists."))
    return problems
