"""Request and response examples shown in the OpenAPI docs (/docs)."""

from __future__ import annotations

import json
from typing import Any

SMALL_SETTINGS: dict[str, Any] = {
    "W": 256, "H": 256, "max_frames": 12, "animation_mode": "2D", "seed": 42,
    "zoom": "0: (1.02)", "angle": "0: (0), 6: (2)",
    "prompts": {"0": "a lighthouse at dusk", "6": "a lighthouse at night"},
    "batch_name": "api_{timestring}", "skip_video_creation": False,
}

BATCH_REQUEST: dict[str, Any] = {"requestBody": {"content": {"application/json": {"examples": {
    "one_job": {"summary": "One job", "value": {"deforum_settings": SMALL_SETTINGS}},
    "batch": {"summary": "Two jobs in one batch, with a WebUI option override", "value": {
        "deforum_settings": [SMALL_SETTINGS, {**SMALL_SETTINGS, "animation_mode": "3D", "translation_z": "0: (2)"}],
        "options_overrides": {"CLIP_stop_at_last_layers": 2}}},
}}}}}

INVALID: dict[str, Any] = {
    "message": "Invalid settings (1 problem(s), key(s): strength_schedule): Setting 'strength_schedule': ...",
    "detail": [{"loc": ["body", "deforum_settings", 0, "strength_schedule"],
                "msg": "Setting 'strength_schedule': '0: (0.65' ... unbalanced parenthesis ...",
                "type": "settings_error"}],
}

JOB_STATUS: dict[str, Any] = {
    "id": "batch(123456789)-0", "status": "ACCEPTED", "phase": "GENERATING", "error_type": "NONE",
    "phase_progress": 0.5, "started_at": 1700000000.0, "last_updated": 1700000004.2, "execution_time": 4.2,
    "update_interval_time": 0.3, "updates": 8, "message": None,
    "outdir": "/home/me/outputs/api_20231114221320", "timestring": "20231114221320",
    "deforum_settings": SMALL_SETTINGS, "options_overrides": None,
}

SIMPLE_SETTINGS_JSON = json.dumps({"W": 256, "H": 256, "max_frames": 12, "prompts": {"0": "a red fox"}})
SIMPLE_ALLOWED = "W;H;max_frames;prompts"

RUN_RESULT: dict[str, Any] = {
    "outdir": "/home/me/outputs/5f0c3b0a9d3e4c1f8a7b6e5d4c3b2a19", "batch_id": "batch(987654321)",
    "job_id": "batch(987654321)-0", "status": "SUCCEEDED", "message": None,
}
