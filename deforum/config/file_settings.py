"""The one list of every setting that can name a file or folder, and every reference each one holds.

Used by the API's no-local-files rule (standalone and WebUI `--deforum-api`) and by `make fuzz`. A setting can name
a file directly (a path or URL), inside JSON (guided images), as a Parseq manifest path, inside a mask expression
(`[file]` operands of `mask_schedule` / `noise_mask_schedule`), or as a model name/folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from deforum.models.settings import Settings

FileKind = Literal["path", "guided_images", "manifest", "mask_schedule", "model_name", "model_schedule",
                   "model_folder"]
CONTROLNET_UNITS = range(1, 6)


@dataclass(frozen=True)
class FileSetting:
    """A setting that can name a file: its key and how the reference is written in it."""

    key: str
    kind: FileKind


FILE_SETTINGS: tuple[FileSetting, ...] = (
    *(FileSetting(key, "path") for key in (
        "init_image", "mask_file", "video_init_path", "video_mask_path", "soundtrack_path",
        "color_coherence_image_path", "audio_path",
        *(f"cn_{n}_{kind}" for n in CONTROLNET_UNITS for kind in ("vid_path", "mask_vid_path")))),
    FileSetting("init_images", "guided_images"),
    FileSetting("parseq_manifest", "manifest"),
    FileSetting("mask_schedule", "mask_schedule"),
    FileSetting("noise_mask_schedule", "mask_schedule"),
    FileSetting("checkpoint_schedule", "model_schedule"),
    *(FileSetting(f"cn_{n}_model", "model_name") for n in CONTROLNET_UNITS),
    FileSetting("wan_model_path", "model_folder"),
)
PATH_KEYS: tuple[str, ...] = tuple(item.key for item in FILE_SETTINGS if item.kind == "path")


@dataclass(frozen=True)
class FileReference:
    """One file a setting names: the setting, the text naming the file, and how it is named."""

    key: str
    text: str
    kind: FileKind


def file_references(settings: Settings) -> Iterator[FileReference]:
    """Every file or folder reference in settings, from FILE_SETTINGS (unparsable values name none)."""
    for item in FILE_SETTINGS:
        value = settings[item.key]
        for text in _references(item.kind, value):
            yield FileReference(item.key, text, item.kind)


def _references(kind: FileKind, value: object) -> list[str]:
    """The reference texts one setting value holds."""
    if not isinstance(value, str):
        return []
    if kind in ("path", "model_name", "model_folder"):
        return [value]
    if kind == "manifest":
        text = value.strip()
        return [] if not text or text.startswith(("{", "[")) else [text]
    if kind == "guided_images":
        return _guided_image_paths(value)
    if kind == "model_schedule":
        return [name for name in _string_schedule_values(value) if name]
    return [path for expression in _string_schedule_values(value) for path in _mask_files(expression)]


def _guided_image_paths(value: str) -> list[str]:
    """The image paths of an init_images JSON object."""
    try:
        guided = json.loads(value or "{}")
    except (TypeError, ValueError, RecursionError):
        return []
    if not isinstance(guided, Mapping):
        return []
    return [item for item in guided.values() if isinstance(item, str)]


def _string_schedule_values(text: str) -> list[str]:
    """The value of every keyframe of a string schedule, as written (without the quotes)."""
    from deforum.animation.schedule_parse import ScheduleError, parse_string_schedule

    try:
        return [key.value_text for key in parse_string_schedule(text)]
    except ScheduleError:
        return []


def _mask_files(expression: str) -> list[str]:
    """The `[file]` operands of a mask expression."""
    from deforum.prompt.mask_expressions import MaskExpressionError
    from deforum.prompt.mask_expressions import file_references as mask_file_references

    try:
        return list(mask_file_references(expression))
    except MaskExpressionError:
        return []
