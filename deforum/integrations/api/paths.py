"""Path safety for settings sent over HTTP: no write outside the output root, no local file read unless allowed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from deforum.config.file_settings import CONTROLNET_UNITS, FileReference, file_references
from deforum.core.run import output_folder
from deforum.models.modes import traits
from deforum.models.settings import Settings

LOCAL_FILE_KINDS = ("path", "guided_images", "manifest", "mask_schedule")
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


def _local_references(settings: Settings) -> list[tuple[FileReference, Path]]:
    """(reference, local path) of every local file any setting names (web URLs and empty values excluded)."""
    found = [(ref, local_path(ref.text)) for ref in file_references(settings) if ref.kind in LOCAL_FILE_KINDS]
    return [(ref, path) for ref, path in found if path is not None]


def keys_in_use(settings: Settings) -> set[str]:
    """The file-reading settings this render would open (by the original's switches)."""
    anim, out = settings.anim, settings.output
    uses = {
        "init_image": settings.args.use_init or anim.hybrid_use_init_image,
        "mask_file": settings.args.use_mask,
        "video_init_path": traits(anim.animation_mode).video_init or anim.hybrid_composite != "None"
        or anim.hybrid_motion != "None" or anim.color_coherence == "Video Input" or out.add_soundtrack == "Init Video",
        "video_mask_path": anim.use_mask_video,
        "soundtrack_path": out.add_soundtrack == "File",
        "color_coherence_image_path": anim.color_coherence == "Image",
        "audio_path": bool((out.audio_path or "").strip()),
        "parseq_manifest": True,
        "init_images": settings.loop.use_looper,
        "mask_schedule": settings.args.use_mask or anim.use_mask_video,
        "noise_mask_schedule": anim.use_noise_mask,
    }
    for n in CONTROLNET_UNITS:
        enabled = bool(settings[f"cn_{n}_enabled"])
        uses[f"cn_{n}_vid_path"] = uses[f"cn_{n}_mask_vid_path"] = enabled
    return {key for key, used in uses.items() if used}


def check_local_files(settings: Settings, *, allow: bool) -> tuple[list[PathProblem], dict[str, str]]:
    """Refuse local paths, or (allowed) resolve them, require used ones to exist; returns problems, resolved paths."""
    problems = _model_reference_problems(settings, allow=allow)
    resolved: dict[str, str] = {}
    used = keys_in_use(settings)
    for ref, path in _local_references(settings):
        if not allow:
            where = " (inside the mask expression)" if ref.kind == "mask_schedule" else ""
            problems.append(PathProblem(ref.key, f"Setting '{ref.key}': {ref.text!r}{where} {REFUSED}."))
            continue
        full = path.resolve()
        if ref.key in used and not full.exists():
            problems.append(PathProblem(ref.key, f"Setting '{ref.key}': file not found: {full} (relative paths are "
                                                 "resolved from the server's working folder)."))
        elif ref.kind == "path":
            resolved[ref.key] = str(full)
    return problems, resolved


def _model_reference_problems(settings: Settings, *, allow: bool) -> list[PathProblem]:
    """Model names never leave the models folder; a model folder outside the working folder needs permission."""
    problems: list[PathProblem] = []
    for ref in file_references(settings):
        if ref.kind in ("model_name", "model_schedule") and escapes(ref.text):
            problems.append(PathProblem(ref.key, f"Setting '{ref.key}': {ref.text!r} is not a model name (no "
                                                 "absolute path, no '..'). Use the model's file name."))
        elif ref.kind == "model_folder" and not allow and (escapes(ref.text) or ref.text.startswith("file:")):
            problems.append(PathProblem(ref.key, f"Setting '{ref.key}': {ref.text!r} {REFUSED}; a relative folder "
                                                 "without '..' is allowed"))
    return problems


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


def check_urls(settings: Settings, *, allow: bool) -> list[PathProblem]:
    """Refuse http(s) values in use unless the server allows URLs; then refuse private, loopback, link-local hosts."""
    from deforum.media.remote import is_web_url, public_address_problem

    problems, used = [], keys_in_use(settings)
    for ref in file_references(settings):
        if ref.key in used and ref.kind in LOCAL_FILE_KINDS and is_web_url(ref.text):
            why = public_address_problem(ref.text) if allow else "this server does not fetch URLs (start it with " \
                                                                    "--allow-urls)"
            problems += [PathProblem(ref.key, f"Setting '{ref.key}': {ref.text!r} is refused: {why}.")] if why else []
    return problems
