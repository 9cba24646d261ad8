"""Settings files: load either shape the original wrote, upgrade legacy keys, validate, save atomically."""

from __future__ import annotations

import functools
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from deforum.config.deprecations import upgrade_legacy
from deforum.config.json_limits import loads_limited, settings_nesting_error
from deforum.config.schedule_check import check_schedules
from deforum.models.key_use import notice_lines, unused_settings
from deforum.models.prompt_merge import merge_shared_prompts, unmerge_shared_prompts
from deforum.models.settings import FIELD_SPECS, Settings, SettingsError

log = logging.getLogger(__name__)

RUN_SHAPE_PROMPT_KEYS = ("positive_prompts", "negative_prompts")
UI_SHAPE_PROMPT_KEYS = ("animation_prompts_positive", "animation_prompts_negative")
FILE_ONLY_KEYS = ("sd_model_name", "sd_model_hash", "deforum_git_commit_id")
SettingsSource = str | os.PathLike | Mapping[str, Any]


def read_json_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a settings file as a JSON object, with a clear error for missing files and bad JSON."""
    file = Path(path)
    if not file.is_file():
        raise SettingsError([f"Settings file not found: {file}. Check the path."], str(file))
    try:
        data = loads_limited(file.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as err:
        raise SettingsError([f"Not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}. "
                             "Fix the syntax (a missing comma or quote is the usual cause)."], str(file)) from None
    except UnicodeDecodeError:
        raise SettingsError(["The file is not UTF-8 text. Save it as UTF-8 JSON."], str(file)) from None
    except ValueError as err:
        raise SettingsError([f"Not usable JSON: {err}. Use numbers below 1e308 and flat values."],
                            str(file)) from None
    if not isinstance(data, dict):
        raise SettingsError(["The file must hold one JSON object ({...}) of settings."], str(file))
    return data


def _normalise_prompt_shape(data: dict[str, Any]) -> dict[str, Any]:
    """Bring the run-time shape (merged prompts + positive_prompts/negative_prompts) to the UI shape."""
    if any(k in data for k in UI_SHAPE_PROMPT_KEYS) or not any(k in data for k in RUN_SHAPE_PROMPT_KEYS):
        for key in RUN_SHAPE_PROMPT_KEYS:
            data.pop(key, None)
        return data
    positive = data.pop("positive_prompts", "") or ""
    negative = data.pop("negative_prompts", "") or ""
    prompts = data.get("prompts")
    unmerged = None
    if isinstance(prompts, Mapping) and isinstance(positive, str) and isinstance(negative, str):
        unmerged = unmerge_shared_prompts(prompts, positive, negative)
    if unmerged is not None:
        data["prompts"] = unmerged
    data["animation_prompts_positive"] = positive
    data["animation_prompts_negative"] = negative
    return data


def load(source: SettingsSource, *, check_schedule_syntax: bool = True) -> Settings:
    """Load settings from a file path or a dict: legacy upgrades, validation, unknown keys kept as warnings."""
    name = "" if isinstance(source, Mapping) else str(source)
    raw = dict(source) if isinstance(source, Mapping) else read_json_file(source)
    settings_nesting_error(raw, name)
    data, notes = upgrade_legacy(raw)
    data = _normalise_prompt_shape(data)
    for key in FILE_ONLY_KEYS:
        data.pop(key, None)
    unknown = [k for k in data if k not in FIELD_SPECS and k not in ("prompts", *UI_SHAPE_PROMPT_KEYS)]
    notes += [f"Unknown setting '{k}' kept as is (not used by Deforum)." for k in unknown]
    notes += unused_notes(data)
    settings = Settings.from_dict(data, warnings=tuple(notes), source=name)
    if check_schedule_syntax:
        check_schedules(settings, source=name)
    for note in notes:
        log.info("%s", note)
    return settings


def unused_notes(data: Mapping[str, Any]) -> list[str]:
    """One note per reason naming the keys given in `data` that a render of it does not use (other modes, ignored)."""
    values = {key: spec.default for key, spec in FIELD_SPECS.items()} | dict(data)
    return notice_lines(unused_settings(data, values))


def _ordered_flat(settings: Settings, shape: str) -> dict[str, Any]:
    """The flat dict in the original's key order for the chosen shape ('ui' or 'run')."""
    flat = settings.to_flat()
    prompts = flat.pop("prompts")
    positive = flat.pop("animation_prompts_positive")
    negative = flat.pop("animation_prompts_negative")
    if shape == "run":
        prompt_block = {"prompts": merge_shared_prompts(prompts, positive, negative),
                        "positive_prompts": positive, "negative_prompts": negative}
    else:
        prompt_block = {"prompts": prompts, "animation_prompts_positive": positive,
                        "animation_prompts_negative": negative}
    ordered: dict[str, Any] = {}
    for key, value in flat.items():
        ordered[key] = value
        if key == "motion_preview_mode":
            ordered.update(prompt_block)
    return ordered


def to_file_dict(settings: Settings, *, shape: str = "ui", model_name: str = "", model_hash: str = "",
                 commit: str = "") -> dict[str, Any]:
    """The JSON object the original writes: flat keys, unknown keys kept, model and version at the end."""
    if shape not in ("ui", "run"):
        raise ValueError("shape must be 'ui' (Save Settings) or 'run' (the render's settings file)")
    data = _ordered_flat(settings, shape)
    data.update({k: v for k, v in settings.extras.items() if k not in data})
    data.update({"sd_model_name": model_name, "sd_model_hash": model_hash, "deforum_git_commit_id": commit})
    return data


def dumps(data: Mapping[str, Any]) -> str:
    """Serialise exactly as the original: indent=4, ensure_ascii=False."""
    return json.dumps(data, ensure_ascii=False, indent=4)


def write_file_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call write() on a temporary file beside path, fsync it, then rename it over path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o666 & ~current_umask())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@functools.cache
def current_umask() -> int:
    """The process umask (read once by setting it and putting it back), so atomic files get ordinary permissions."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 text atomically."""
    write_file_atomic(path, lambda stream: stream.write(text.encode("utf-8")))


def run_record(settings: Settings, *, seed: int, batch_name: str) -> Settings:
    """The settings as the original recorded a run: its seed and batch name; without init (`use_init` and
    `hybrid_use_init_image` off) `init_image` is null, as its process_args cleared it."""
    changes: dict[str, Any] = {"seed": seed, "batch_name": batch_name}
    if not settings.args.use_init and not settings.anim.hybrid_use_init_image:
        changes["init_image"] = None
    return settings.replace(**changes)


def save(settings: Settings, path: str | os.PathLike, *, shape: str = "ui", **file_info: str) -> Path:
    """Save settings as the original's flat JSON, atomically; returns the path written."""
    write_text_atomic(path, dumps(to_file_dict(settings, shape=shape, **file_info)))
    return Path(path)
