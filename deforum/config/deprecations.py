"""Legacy settings upgrades: every rename and value map the original applied when loading old files."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from deforum.models.fields import MASK_FILL_CHOICES

REMOVED_KEYS = ("histogram_matching",)
RENAMED_KEYS = {
    "flip_2d_perspective": "enable_perspective_flip",
    "skip_video_for_run_all": "skip_video_creation",
    "animation_prompts": "prompts",
}
CN_RESIZE_MAP = (("Envelope (Outer Fit)", "Outer Fit (Shrink to Fit)"),
                 ("Scale to Fit (Inner Fit)", "Inner Fit (Scale to Fit)"))
VALUE_MAPS: dict[str, tuple[tuple[Any, Any], ...]] = {
    "color_coherence": (("Match Frame 0 HSV", "HSV"), ("Match Frame 0 LAB", "LAB"), ("Match Frame 0 RGB", "RGB")),
    "hybrid_composite": ((False, "None"), (True, "Normal")),
    "optical_flow_redo_generation": ((False, "None"), (True, "DIS Fine")),
    "optical_flow_cadence": ((False, "None"), (True, "DIS Fine")),
    "add_soundtrack": ((False, "None"), (True, "File")),
    **{f"cn_{n}_resize_mode": CN_RESIZE_MAP for n in range(1, 6)},
}
NUMBER_TO_SCHEDULE_KEYS = tuple(
    f"cn_{n}_{part}" for n in range(1, 6) for part in ("weight", "guidance_start", "guidance_end")
)
USE_ZOE_DEPTH_MAP = {"True": "Zoe+AdaBins (old)", "False": "Midas+AdaBins (old)"}

WEBUI_SAMPLER_ORDER = (
    "DPM++ 2M", "DPM++ SDE", "DPM++ 2M SDE", "DPM++ 2M SDE Heun", "DPM++ 2S a", "DPM++ 3M SDE", "Euler a",
    "Euler", "LMS", "Heun", "DPM2", "DPM2 a", "DPM fast", "DPM adaptive", "Restart", "DDIM", "DDIM CFG++",
    "PLMS", "UniPC", "LCM",
)


def _same(a: Any, b: Any) -> bool:
    """Equality that keeps True and 1 apart, as the legacy value maps need."""
    return type(a) is type(b) and a == b


def _map_values(data: dict[str, Any], notes: list[str]) -> None:
    """Replace legacy values by their current names."""
    for key, pairs in VALUE_MAPS.items():
        if key not in data:
            continue
        for old, new in pairs:
            if _same(data[key], old):
                notes.append(f"Setting '{key}': legacy value {old!r} upgraded to {new!r}.")
                data[key] = new
                break


def _rename_keys(data: dict[str, Any], notes: list[str]) -> None:
    """Move renamed keys to their new names and drop removed ones."""
    for key in REMOVED_KEYS:
        if key in data:
            data.pop(key)
            notes.append(f"Setting '{key}' was removed from Deforum; it is ignored.")
    for old, new in RENAMED_KEYS.items():
        if old in data:
            value = data.pop(old)
            if old == "animation_prompts" and isinstance(value, str):
                value = _parse_prompts_text(value)
            if new not in data:
                data[new] = value
            notes.append(f"Setting '{old}' was renamed to '{new}'.")
    if "use_zoe_depth" in data:
        value = USE_ZOE_DEPTH_MAP.get(str(data.pop("use_zoe_depth")))
        if value is not None:
            data["depth_algorithm"] = value
            notes.append(f"Setting 'use_zoe_depth' was replaced by depth_algorithm={value!r}.")


def _parse_prompts_text(text: str) -> Any:
    """The UI kept prompts as JSON text; parse it (left as text when it is not JSON, for validation to report)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _indices_to_names(data: dict[str, Any], notes: list[str], samplers: tuple[str, ...]) -> None:
    """Old files stored the sampler and mask fill as list indices."""
    sampler = data.get("sampler")
    if isinstance(sampler, int) and not isinstance(sampler, bool) and 0 <= sampler < len(samplers):
        data["sampler"] = samplers[sampler]
        notes.append(f"Setting 'sampler': index {sampler} read as {samplers[sampler]!r}.")
    fill = data.get("fill")
    if isinstance(fill, str) and fill in MASK_FILL_CHOICES:
        data["fill"] = MASK_FILL_CHOICES.index(fill)


def _numbers_to_schedules(data: dict[str, Any], notes: list[str]) -> None:
    """ControlNet weights and guidance were numbers before they became schedules."""
    for key in NUMBER_TO_SCHEDULE_KEYS:
        value = data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            data[key] = f"0:({value})"
            notes.append(f"Setting '{key}': number {value!r} upgraded to schedule {data[key]!r}.")


UPGRADES: tuple[Callable[[dict[str, Any], list[str]], None], ...] = (
    _rename_keys, _map_values, _numbers_to_schedules,
)


def upgrade_legacy(raw: dict[str, Any], samplers: tuple[str, ...] = WEBUI_SAMPLER_ORDER) -> tuple[dict, list[str]]:
    """Return an upgraded copy of raw settings and the notices describing each change."""
    data = dict(raw)
    notes: list[str] = []
    if "legacy_colormatch" not in data:
        data["legacy_colormatch"] = True
        notes.append("Setting 'legacy_colormatch' is missing (an older file): set to true so colours match "
                     "the version that wrote it.")
    for upgrade in UPGRADES:
        upgrade(data, notes)
    _indices_to_names(data, notes, samplers)
    return data, notes
