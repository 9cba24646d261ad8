"""Path safety for settings sent over HTTP: no write outside the output root, no local file read unless allowed."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from deforum.core.run import output_folder
from deforum.models.settings import Settings

CONTROLNET_UNITS = range(1, 6)
FILE_KEYS = (
    "init_image", "mask_file", "video_init_path", "video_mask_path", "soundtrack_path", "color_coherence_image_path",
    "audio_path", *(f"cn_{n}_{kind}" for n in CONTROLNET_UNITS for kind in ("vid_path", "mask_vid_path")),
)
EMPTY_VALUES = ("", "None")
WEB_SCHEMES = ("http", "https")
TIMESTRING = re.compile(r"^[0-9]{14}$")
SAMPLE_TIMESTRING = "20000101000000"
REFUSED = ("is a local file path, and this server does not read local files (it was started without "
           "--allow-local-files). Clear the setting (\"\") or use an http(s) URL")


@dataclass(frozen=True)
class PathProblem:
    """One unsafe or missing path: the setting's key and a readable message naming it."""

    key: str
    message: str


def local_path(value: Any) -> Path | None:
    """The local file a path setting points to; None for empty values and web URLs."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    if text in EMPTY_VALUES:
        return None
    parsed = urlparse(text)
    scheme = parsed.scheme.lower()
    if scheme in WEB_SCHEMES:
        return None
    if scheme == "file":
        return Path(url2pathname(parsed.path))
    return Path(text).expanduser()


def is_inside(path: Path, root: Path) -> bool:
    """True when path, with links and `..` resolved, is root or lies under it."""
    resolved, base = path.resolve(), root.resolve()
    return resolved == base or base in resolved.parents


def escapes(relative: str) -> bool:
    """True for an absolute path (POSIX or Windows, drive or UNC) or one with a `..` part."""
    text = relative.strip()
    if not text:
        return False
    windows, posix = PureWindowsPath(text), PurePosixPath(text)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or windows.root or text.startswith("~"):
        return True
    return ".." in windows.parts or ".." in posix.parts


def _file_values(settings: Settings) -> list[tuple[str, str, Path]]:
    """(key, value, local path) of every local path in the file-reading settings."""
    found = [(key, settings[key], local_path(settings[key])) for key in FILE_KEYS]
    manifest = (settings["parseq_manifest"] or "").strip()
    if manifest and not manifest.startswith(("{", "[")):
        found.append(("parseq_manifest", manifest, local_path(manifest)))
    try:
        guided = json.loads(settings["init_images"] or "{}")
    except (TypeError, ValueError):
        guided = {}
    if isinstance(guided, Mapping):
        found += [("init_images", value, local_path(value)) for value in guided.values()]
    return [(key, value, path) for key, value, path in found if path is not None]


def keys_in_use(settings: Settings) -> set[str]:
    """The file-reading settings this render would open (by the original's switches)."""
    anim, out = settings.anim, settings.output
    uses = {
        "init_image": settings.args.use_init or anim.hybrid_use_init_image,
        "mask_file": settings.args.use_mask,
        "video_init_path": anim.animation_mode == "Video Input" or anim.hybrid_composite != "None"
        or anim.hybrid_motion != "None" or anim.color_coherence == "Video Input" or out.add_soundtrack == "Init Video",
        "video_mask_path": anim.use_mask_video,
        "soundtrack_path": out.add_soundtrack == "File",
        "color_coherence_image_path": anim.color_coherence == "Image",
        "audio_path": bool((out.audio_path or "").strip()),
        "parseq_manifest": True,
        "init_images": settings.loop.use_looper,
    }
    for n in CONTROLNET_UNITS:
        enabled = bool(settings[f"cn_{n}_enabled"])
        uses[f"cn_{n}_vid_path"] = uses[f"cn_{n}_mask_vid_path"] = enabled
    return {key for key, used in uses.items() if used}


def check_local_files(settings: Settings, *, allow: bool) -> tuple[list[PathProblem], dict[str, str]]:
    """Refuse local paths, or (allowed) resolve them, require used ones to exist; returns problems, resolved paths."""
    problems: list[PathProblem] = []
    resolved: dict[str, str] = {}
    used = keys_in_use(settings)
    for key, value, path in _file_values(settings):
        if not allow:
            problems.append(PathProblem(key, f"Setting '{key}': {value!r} {REFUSED}."))
            continue
        full = path.resolve()
        if key in used and not full.exists():
            problems.append(PathProblem(key, f"Setting '{key}': file not found: {full} (relative paths are "
                                             "resolved from the server's working folder)."))
        elif key in FILE_KEYS:
            resolved[key] = str(full)
    return problems, resolved


def check_output_paths(settings: Settings, raw: Mapping[str, Any], root: Path) -> list[PathProblem]:
    """batch_name, outdir and resume_timestring must keep every write inside the output root."""
    problems: list[PathProblem] = []
    name = settings.args.batch_name
    if escapes(name):
        problems.append(PathProblem("batch_name", f"Setting 'batch_name': {name!r} would write outside the output "
                                                  "folder. Use a plain folder name (no '..', no absolute path)."))
    elif not is_inside(output_folder(settings, root, SAMPLE_TIMESTRING, settings.args.seed)[0], root):
        problems.append(PathProblem("batch_name", f"Setting 'batch_name': {name!r} resolves outside the output "
                                                  "folder. Use a plain folder name."))
    outdir = raw.get("outdir")
    if outdir is not None and (not isinstance(outdir, str) or escapes(outdir)):
        problems.append(PathProblem("outdir", f"Setting 'outdir': {outdir!r} is not allowed: the server chooses the "
                                              "output folder; leave outdir out (a relative name without '..' is "
                                              "ignored)."))
    resume = settings.anim.resume_timestring
    if settings.anim.resume_from_timestring and not TIMESTRING.match(str(resume)):
        problems.append(PathProblem("resume_timestring", f"Setting 'resume_timestring': {resume!r} is not a run's "
                                                         "timestring. Allowed: 14 digits, YYYYmmddHHMMSS."))
    return problems


def check_option_overrides(overrides: Mapping[str, Any] | None) -> list[PathProblem]:
    """WebUI option overrides that name output folders must be relative and without `..`."""
    return [PathProblem(key, f"Option '{key}': {value!r} would write outside the output folder. Use a relative "
                             "folder name without '..'.")
            for key, value in (overrides or {}).items()
            if key.startswith("outdir") and (not isinstance(value, str) or escapes(value))]
