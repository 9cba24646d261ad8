"""What the tab's buttons do, as functions of the components' values by key (gradio-free; the host does the work)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deforum.config.settings_io import load, save
from deforum.models.settings import GROUP_OF_KEY, Settings, SettingsError
from deforum.ui.host import RunOutcome, TabHost
from deforum.ui.values import settings_from_ui, ui_values

DEFAULT_SETTINGS_PATH = "deforum_settings.txt"
ERROR_STYLE = "color:#b91c1c;border:1px solid #fca5a5;border-radius:6px;padding:6px 10px"
USER_ERRORS = (SettingsError, ValueError, FileNotFoundError)


@dataclass(frozen=True)
class GenerateOutput:
    """What Generate shows: the last frames, the video, the run's timestring (for Resume) and messages."""

    gallery: list[str] = field(default_factory=list)
    video: str | None = None
    timestring: str | None = None
    info: str = ""
    log: str = ""


def message(text: str, error: bool = False) -> str:
    """A line of HTML for the tab's message area (errors styled as errors, also where style.css is not loaded)."""
    body = html.escape(text).replace("\n", "<br>")
    if error:
        return f"<div class='deforum-error' style='{ERROR_STYLE}'>&#9888; {body}</div>"
    return f"<div class='deforum-info'>{body}</div>"


def clean_path(text: str) -> Path:
    """A path typed into a text box, without surrounding quotes or spaces."""
    return Path(str(text or "").strip().strip('"').strip("'") or DEFAULT_SETTINGS_PATH).expanduser()


def file_names(files: Sequence[Any] | None) -> list[str]:
    """Paths of uploaded files (gradio 3 gives temp-file objects, gradio 4 strings)."""
    return [str(getattr(f, "name", f)) for f in (files or [])]


def with_init_box(named: Mapping[str, Any], init_box: Any) -> dict[str, Any]:
    """The tab's values with an uploaded init picture in place of the init image path (as the original's box)."""
    path = file_names([init_box])[0] if init_box else ""
    return {**named, "init_image": path} if path else dict(named)


def _output(host: TabHost, result: RunOutcome, notes: list[str]) -> GenerateOutput:
    """Gallery, video and messages of a finished run."""
    state = "interrupted" if result.cancelled else "done"
    text = f"Deforum {state}: {result.frames_written} frame(s) in {result.outdir}"
    if result.cancelled:
        text += f"\nResume with timestring {result.timestring}."
    return GenerateOutput(gallery=host.recent_frames(result), video=str(result.video) if result.video else None,
                          timestring=result.timestring, info=message(text),
                          log="".join(message(n, error=True) for n in notes))


def _batch_settings(files: Sequence[Any]) -> tuple[list[Settings], list[str]]:
    """Load each batch-mode file; the invalid ones are reported and skipped (as the original did)."""
    loaded, notes = [], []
    for name in file_names(files):
        try:
            loaded.append(load(name))
        except USER_ERRORS as err:
            notes.append(f"Skipped {Path(name).name}: {err}")
    return loaded, notes


def generate(host: TabHost, named: Mapping[str, Any], batch_enabled: bool = False,
             batch_files: Sequence[Any] | None = None) -> GenerateOutput:
    """Generate: render the tab's settings, or each batch-mode file in turn."""
    if host.render is None:
        return GenerateOutput(log=message("Rendering needs the WebUI (or the `deforum` command line).", error=True))
    try:
        runs, notes = _batch_settings(batch_files or []) if batch_enabled and batch_files else (
            [settings_from_ui(named)], [])
        result = None
        for settings in runs:
            result = host.render(settings)
            if result.cancelled:
                break
    except USER_ERRORS as err:
        return GenerateOutput(log=message(str(err), error=True))
    if result is None:
        return GenerateOutput(log="".join(message(n, error=True) for n in notes) or message("Nothing to render."))
    return _output(host, result, notes)


def save_settings(host: TabHost, path: str, named: Mapping[str, Any]) -> str:
    """Save Settings: the tab's values as the original's settings file (with the host's checkpoint name and hash)."""
    model_name, model_hash = host.model_info()
    try:
        written = save(settings_from_ui(named), clean_path(path), model_name=model_name, model_hash=model_hash)
    except (*USER_ERRORS, OSError) as err:
        return message(f"Settings not saved: {err}", error=True)
    return message(f"Settings saved to {written.resolve()}")


def load_settings(path: str, keys: Sequence[str]) -> tuple[list[Any] | None, str]:
    """Load All Settings: values for keys from the file, or None (unchanged) and the reason."""
    try:
        settings = load(clean_path(path))
    except (*USER_ERRORS, OSError) as err:
        return None, message(f"Settings not loaded: {err}", error=True)
    notes = "".join(message(w) for w in settings.warnings)
    return ui_values(settings, keys), message(f"Settings loaded from {clean_path(path).resolve()}") + notes


def output_keys(keys: Sequence[str]) -> list[str]:
    """The keys Load Video Settings changes (the original's DeforumOutputArgs)."""
    return [k for k in keys if GROUP_OF_KEY.get(k) == "output"]


def load_video_settings(path: str, keys: Sequence[str]) -> tuple[list[Any] | None, str]:
    """Load Video Settings: only the Output settings from the file."""
    values, text = load_settings(path, output_keys(keys))
    return values, text.replace("Settings loaded", "Video settings loaded", 1)
