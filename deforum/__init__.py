"""Deforum: keyframed camera motion plus diffusion, as a WebUI extension and a standalone renderer.

The small face of the package::

    import deforum
    settings = deforum.load_settings("my_settings.txt")      # a frozen, validated deforum.Settings
    result = deforum.render(settings, "outputs", preview=True)  # frames, settings file and video on disk
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from deforum.models.settings import Settings, SettingsError

if TYPE_CHECKING:
    from deforum.core.run import RunResult

__version__ = "0.1.0"
__all__ = ["Settings", "SettingsError", "__version__", "load_settings", "render"]


def load_settings(path: str | Path) -> Settings:
    """Load a settings file of the original extension or the Forge fork (legacy keys upgraded, validated)."""
    from deforum.config.settings_io import load

    return load(path)


def render(settings: Settings | str | Path, outdir: str | Path = "outputs", *, preview: bool | None = None,
           model: str | None = None, models_dir: str | None = None, resume: str | None = None) -> RunResult:
    """Render a settings object or file standalone (``preview``: no diffusion; ``model``: a local checkpoint)."""
    from deforum.integrations.services import render_standalone

    loaded = settings if isinstance(settings, Settings) else load_settings(settings)
    if preview is not None:
        loaded = loaded.replace(motion_preview_mode=preview)
    return render_standalone(loaded, outdir, model=model, models_dir=models_dir, resume=resume)
