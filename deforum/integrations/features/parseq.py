"""Parseq manifests: per-frame values made in sd-parseq that replace Deforum's schedules, prompts and frame count."""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from deforum.animation.keys import NUMERIC_SCHEDULE_KEYS, STRING_SCHEDULE_KEYS, AnimationKeys
from deforum.core.inputs import RenderInputs
from deforum.core.run_inputs import settings_plan
from deforum.media.remote import UrlInputError, is_web_url, localize
from deforum.models.errors import DeforumError
from deforum.models.settings import Settings
from deforum.prompt.schedule import expand_backticks, split_negative

log = logging.getLogger(__name__)

SETTING = "parseq_manifest"
PROMPT_FIELD = "deforum_prompt"
MOTION_FIELDS = (
    "angle", "zoom", "translation_x", "translation_y", "translation_z", "rotation_3d_x", "rotation_3d_y",
    "rotation_3d_z", "perspective_flip_theta", "perspective_flip_phi", "perspective_flip_gamma",
)
# Deforum schedule key -> the Parseq field the original reads for it; any other key is read as its name
# without "_schedule" (cn_1_weight, pix2pix_img_cfg_scale, hybrid_comp_alpha, checkpoint...).
FIELD_NAMES: Mapping[str, str] = MappingProxyType({
    "noise_schedule": "noise", "strength_schedule": "strength", "contrast_schedule": "contrast",
    "cfg_scale_schedule": "scale", "steps_schedule": "steps_schedule", "sampler_schedule": "sampler_schedule",
    "seed_schedule": "seed", "fov_schedule": "fov", "near_schedule": "near", "far_schedule": "far",
    "subseed_schedule": "subseed", "subseed_strength_schedule": "subseed_strength",
    "kernel_schedule": "antiblur_kernel", "sigma_schedule": "antiblur_sigma", "amount_schedule": "antiblur_amount",
    "threshold_schedule": "antiblur_threshold", "image_strength_schedule": "strength",
    "blendFactorMax": "guided_blendFactorMax", "blendFactorSlope": "guided_blendFactorSlope",
    "tweening_frames_schedule": "guided_tweening_frames",
    "color_correction_factor": "guided_color_correction_factor",
})
GUIDED_KEYS = ("image_strength_schedule", "blendFactorMax", "blendFactorSlope", "tweening_frames_schedule",
               "color_correction_factor")


class ParseqError(DeforumError, ValueError):
    """A Parseq manifest that cannot be read or used; the message names parseq_manifest."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Setting '{SETTING}': {reason.rstrip('.')}.")


def parseq_field(key: str, use_deltas: bool) -> str:
    """The Parseq field that replaces the Deforum schedule `key` (motion fields use `<name>_delta` with deltas)."""
    if key in MOTION_FIELDS:
        return f"{key}_delta" if use_deltas else key
    return FIELD_NAMES.get(key, key.removesuffix("_schedule"))


def _read_text(value: str) -> str:
    """Inline JSON as it is, or the text of a manifest file or http(s) URL (fetched once per run)."""
    text = value.strip()
    if text.startswith(("{", "[")):
        return text
    if is_web_url(text):
        try:
            return Path(localize(text, "parseq_manifest", "json")).read_text(encoding="utf-8")
        except UrlInputError as err:
            raise ParseqError(str(err).removeprefix("Setting 'parseq_manifest': ")) from None
    path = Path(text.removeprefix("file://").strip('"')).expanduser()
    if not path.is_file():
        raise ParseqError(f"{text!r} is neither manifest JSON nor an existing file. Paste the manifest JSON from "
                          "Parseq or the path of a saved manifest")
    return path.read_text(encoding="utf-8")


def _checked_frames(data: Any) -> tuple[Mapping[str, Any], ...]:
    """The manifest's rendered_frames, each an object with a whole-number 'frame'."""
    frames = data.get("rendered_frames") if isinstance(data, Mapping) else None
    if not isinstance(frames, list) or not frames:
        raise ParseqError("the JSON does not look like a Parseq manifest (no 'rendered_frames' list of frames)")
    for position, entry in enumerate(frames):
        number = entry.get("frame") if isinstance(entry, Mapping) else None
        if isinstance(number, bool) or not isinstance(number, int | float) or number != int(number) or number < 0:
            raise ParseqError(f"rendered_frames[{position}] has no whole-number 'frame'")
    return tuple(MappingProxyType(dict(entry)) for entry in frames)


def _option(options: Mapping[str, Any], name: str) -> int | float | None:
    """A numeric manifest option (whole numbers as int), None when absent or 0 (the original ignores falsy ones)."""
    value = options.get(name)
    if value in (None, 0, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParseqError(f"options.{name} is {value!r}, not a number")
    return int(value) if float(value).is_integer() else float(value)


def _keyframes(data: Mapping[str, Any]) -> tuple[int, ...]:
    """The frames of the manifest's `keyframes` list (keyframe distribution diffuses them), sorted."""
    entries = data.get("keyframes")
    if not isinstance(entries, list):
        return ()
    frames = [entry.get("frame") for entry in entries if isinstance(entry, Mapping)]
    return tuple(sorted({int(f) for f in frames if isinstance(f, int | float) and not isinstance(f, bool)}))


@dataclass(frozen=True)
class ParseqManifest:
    """The parts of a manifest Deforum reads: rendered frames and the output fps and cadence options."""

    frames: tuple[Mapping[str, Any], ...]
    fps: int | float | None = None
    cadence: int | float | None = None
    keyframes: tuple[int, ...] = ()

    @classmethod
    def parse(cls, value: str) -> ParseqManifest:
        """Read inline manifest JSON or a local manifest file."""
        try:
            data = json.loads(_read_text(value))
        except json.JSONDecodeError as err:
            raise ParseqError(f"the manifest is not valid JSON ({err.msg} at line {err.lineno} column {err.colno})"
                              ) from None
        frames = _checked_frames(data)
        options = data.get("options") if isinstance(data.get("options"), Mapping) else {}
        numbers = [int(entry["frame"]) for entry in frames]
        if len(set(numbers)) != len(numbers) or max(numbers) + 1 != len(numbers):
            log.warning("The Parseq manifest may have duplicated or missing frames: %d frames, highest frame %d.",
                        len(numbers), max(numbers))
        return cls(frames, _option(options, "output_fps"), _option(options, "cadence"), _keyframes(data))

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields of the first rendered frame: the ones Parseq manages."""
        return tuple(self.frames[0])

    def manages(self, field: str) -> bool:
        """True when the first rendered frame has `field`."""
        return field in self.frames[0]

    def values(self, field: str, max_frames: int) -> list[Any]:
        """`field` per frame: later duplicates win, gaps hold the previous value, frames past the end the last."""
        found: list[Any] = [None] * max_frames
        for entry in self.frames:
            number = int(entry["frame"])
            if number < max_frames and entry.get(field) is not None:
                found[number] = entry[field]
        first = next((value for value in found if value is not None), self.frames[-1].get(field))
        result, current = [], first
        for value in found:
            current = current if value is None else value
            result.append(current)
        return result

    def numbers(self, field: str, max_frames: int) -> np.ndarray:
        """A numeric field per frame as a read-only float64 array."""
        values = self.values(field, max_frames)
        for frame, value in enumerate(values):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParseqError(f"field {field!r} is {value!r} at frame {frame}, not a number")
        array = np.asarray(values, dtype=np.float64)
        array.flags.writeable = False
        return array

    def texts(self, field: str, max_frames: int) -> tuple[str, ...]:
        """A text field per frame."""
        return tuple(str(value) for value in self.values(field, max_frames))


def parseq_keys(keys: AnimationKeys, manifest: ParseqManifest, use_deltas: bool) -> AnimationKeys:
    """The keys with every schedule the manifest manages replaced by its per-frame values."""
    series = {key: manifest.numbers(parseq_field(key, use_deltas), keys.max_frames)
              if manifest.manages(parseq_field(key, use_deltas)) else values for key, values in keys.series.items()}
    strings = {key: manifest.texts(parseq_field(key, use_deltas), keys.max_frames)
               if manifest.manages(parseq_field(key, use_deltas)) else values for key, values in keys.strings.items()}
    return AnimationKeys(keys.max_frames, MappingProxyType(series), MappingProxyType(strings))


def parseq_prompts(manifest: ParseqManifest, max_frames: int, seed: int) -> tuple[tuple[str, str], ...]:
    """Per-frame (positive, negative) prompts from deforum_prompt, backticks evaluated, split at --neg."""
    texts = manifest.texts(PROMPT_FIELD, max_frames)
    frames_of: dict[str, list[int]] = {}
    for frame, text in enumerate(texts):
        frames_of.setdefault(text, []).append(frame)
    result: list[tuple[str, str]] = [("", "")] * max_frames
    for text, frames in frames_of.items():
        expanded = expand_backticks(text, np.asarray(frames), max_f=max_frames - 1, seed=seed, key=PROMPT_FIELD)
        for frame, prompt in zip(frames, expanded, strict=True):
            result[frame] = split_negative(prompt)
    return tuple(result)


def managed_keys(keys: Sequence[str], manifest: ParseqManifest, use_deltas: bool) -> list[str]:
    """The schedule keys among `keys` whose values come from the manifest."""
    return [key for key in keys if manifest.manages(parseq_field(key, use_deltas))]


def _wrapped(names: Sequence[str], width: int = 44) -> list[str]:
    """Schedule names (without "_schedule", as the original shows them) wrapped to `width` columns ('-': none)."""
    shown = [name.removesuffix("_schedule") for name in names]
    return textwrap.wrap(", ".join(shown), width, break_long_words=False) or ["-"]


def _table(rows: Sequence[tuple[str, Sequence[str], Sequence[str]]]) -> str:
    """A plain-text three-column table: row label, Parseq column, Deforum column."""
    lines = [f"{'':<14}| {'Parseq':<44} | Deforum"]
    for label, parseq, deforum in rows:
        for index, (left, right) in enumerate(itertools.zip_longest(parseq, deforum, fillvalue="")):
            lines.append(f"{label if index == 0 else '':<14}| {left:<44} | {right}")
    return "\n".join(lines)


def _used(value: Any, used: bool) -> list[str]:
    """A table cell: the value, marked when it is the one the render uses."""
    return [f"{value} (used)" if used else str(value)]


class ParseqHook:
    """Renders a Parseq manifest: its values replace schedules, prompts and (optionally) frames, fps and cadence."""

    handles = frozenset({SETTING})

    def __init__(self, manifest: ParseqManifest, *, use_deltas: bool = True, overrides: bool = True) -> None:
        self.manifest, self.use_deltas, self.overrides = manifest, use_deltas, overrides

    @classmethod
    def from_settings(cls, settings: Settings) -> ParseqHook | None:
        """The hook for the settings' manifest (inline JSON or a local file), None when there is none."""
        parseq = settings.parseq
        text = (parseq.parseq_manifest or "").strip()
        if not text:
            return None
        return cls(ParseqManifest.parse(text), use_deltas=bool(parseq.parseq_use_deltas),
                   overrides=bool(parseq.parseq_non_schedule_overrides))

    def setting_changes(self) -> dict[str, Any]:
        """Frames, fps and cadence from the manifest (with overrides); a managed seed forces seed scheduling."""
        manifest, changes = self.manifest, {}
        if self.overrides:
            changes["max_frames"] = len(manifest.frames)
            if manifest.fps:
                changes["fps"] = manifest.fps
            if manifest.cadence:
                changes["diffusion_cadence"] = manifest.cadence
        if manifest.manages("seed"):
            changes.update(seed_behavior="schedule", enable_subseed_scheduling=True)
        return changes

    def adjust_settings(self, settings: Settings) -> Settings:
        """The settings with the manifest's overrides; logs what Parseq manages and what Deforum schedules."""
        log.info("Parseq manifest in use:\n%s", self.table(settings))
        changes = self.setting_changes()
        return settings.replace(**changes) if changes else settings

    def decorate(self, inputs: RenderInputs) -> RenderInputs:
        """The inputs with the manifest's schedules and (when it has them) prompts."""
        keys = parseq_keys(inputs.keys, self.manifest, self.use_deltas)
        prompts, prompt_texts = inputs.prompts, inputs.prompt_texts
        if self.manifest.manages(PROMPT_FIELD):
            prompts = parseq_prompts(self.manifest, keys.max_frames, inputs.base_seed)
            prompt_texts = self.manifest.texts(PROMPT_FIELD, keys.max_frames)
        plan = inputs.plan
        if plan.warp_tweens and self.manifest.keyframes:
            plan = settings_plan(inputs.settings, inputs.base_seed, self.manifest.keyframes)
        return dataclasses.replace(inputs, keys=keys, prompts=prompts, prompt_texts=prompt_texts, plan=plan)

    def table(self, settings: Settings) -> str:
        """Which schedules (by Deforum key), prompts, frame count, fps and cadence come from Parseq or Deforum."""
        groups = {"Animation": [k for k in (*NUMERIC_SCHEDULE_KEYS, *STRING_SCHEDULE_KEYS)
                                if not k.startswith("cn_") and k not in GUIDED_KEYS],
                  "ControlNet": [k for k in NUMERIC_SCHEDULE_KEYS if k.startswith("cn_")],
                  "Guided images": list(GUIDED_KEYS)}
        rows: list[tuple[str, Sequence[str], Sequence[str]]] = []
        for label, keys in groups.items():
            managed = managed_keys(keys, self.manifest, self.use_deltas)
            rows.append((label, _wrapped(managed), _wrapped([k for k in keys if k not in managed])))
        prompts = self.manifest.manages(PROMPT_FIELD)
        rows.append(("Prompts", ["yes (used)" if prompts else "no"], ["no" if prompts else "yes (used)"]))
        m = self.manifest
        for label, ours, theirs in (("Frames", len(m.frames), settings.anim.max_frames),
                                    ("FPS", m.fps, settings.output.fps),
                                    ("Cadence", m.cadence, settings.anim.diffusion_cadence)):
            used = self.overrides and bool(ours)
            rows.append((label, _used(ours, used), _used(theirs, not used)))
        return _table(rows)
