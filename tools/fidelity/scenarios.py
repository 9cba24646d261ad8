"""The fidelity scenarios: the original's default settings plus a few changes each, 64×64, a few frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BASE_SETTINGS = ROOT / "tests" / "data" / "compat" / "original" / "default_settings.txt"
SMALL = {"W": 64, "H": 64, "steps": 4, "sampler": "Euler a", "seed": 11, "skip_video_creation": True,
         "make_gif": False, "frame_interpolation_engine": "None", "r_upscale_video": False,
         "optical_flow_cadence": "None", "optical_flow_redo_generation": "None"}

SCENARIOS: dict[str, dict[str, Any]] = {
    "2d_perlin_lab": {
        "animation_mode": "2D", "max_frames": 6, "diffusion_cadence": 1, "noise_type": "perlin",
        "color_coherence": "LAB", "zoom": "0: (1.04)", "angle": "0: (2)", "translation_x": "0: (1.5)",
        "noise_schedule": "0: (0.08)", "strength_schedule": "0: (0.6)", "seed_behavior": "iter",
    },
    "3d_flat_cadence3": {
        "animation_mode": "3D", "max_frames": 7, "diffusion_cadence": 3, "use_depth_warping": False,
        "translation_z": "0: (3)", "rotation_3d_y": "0: (1.5)", "translation_x": "0: (1)",
        "color_coherence": "LAB", "strength_schedule": "0: (0.55)", "seed_behavior": "iter",
    },
    "ladder_contrast_antiblur": {
        "animation_mode": "2D", "max_frames": 6, "diffusion_cadence": 1, "seed_behavior": "ladder",
        "contrast_schedule": "0: (1.0), 2: (1.25)", "amount_schedule": "0: (0.3)", "kernel_schedule": "0: (5)",
        "sigma_schedule": "0: (1.0)", "threshold_schedule": "0: (0.0)",
        "zoom": "0: (1+0.02*sin(t/2))", "angle": "0: (t*0.5)", "noise_schedule": "0: (0.03+0.01*cos(t))",
        "color_coherence": "None",
    },
    "preview_default": {"motion_preview_mode": True, "max_frames": 10},
    "srt_string_schedules": {
        "animation_mode": "2D", "max_frames": 4, "diffusion_cadence": 1, "enable_sampler_scheduling": True,
        "sampler_schedule": '0: ("Euler a"), 2: ("Euler")', "color_coherence": "None",
        "animation_prompts_positive": "masterpiece", "animation_prompts_negative": "blurry",
        "prompts": {"0": "a lighthouse", "2": "a boat --neg fog"},
    },
}

SRT_OPTIONS = {"deforum_save_gen_info_as_srt": True}


def scenario_settings(name: str) -> dict[str, Any]:
    """The full settings object posted for one scenario: the original's defaults file in the "Save Settings"
    shape (shared prompts under animation_prompts_positive/negative, which its API reads) plus the changes."""
    base = json.loads(BASE_SETTINGS.read_text(encoding="utf-8"))
    shared = {"animation_prompts_positive": base.pop("positive_prompts"),
              "animation_prompts_negative": base.pop("negative_prompts")}
    return {**base, **shared, **SMALL, **SCENARIOS[name], "batch_name": f"fidelity_{name}"}
