"""The render hooks a settings file needs (Parseq, ControlNet), for every front end that calls run_render."""

from __future__ import annotations

from deforum.core.inputs import RenderHook
from deforum.core.support import unsupported_features
from deforum.integrations.features import controlnet, parseq
from deforum.integrations.features.controlnet import ControlNetHook
from deforum.integrations.features.parseq import ParseqError, ParseqHook
from deforum.models.settings import Settings

HANDLED = frozenset({parseq.SETTING, controlnet.HANDLED})


def render_hooks(settings: Settings) -> tuple[RenderHook, ...]:
    """Parseq first (its values feed the ControlNet weight schedules), then ControlNet; only those in use."""
    hooks = (ParseqHook.from_settings(settings), ControlNetHook.from_settings(settings))
    return tuple(hook for hook in hooks if hook is not None)


def preflight(settings: Settings, wan: bool = False) -> list[str]:
    """Problems to report before queueing a render: unsupported features and unreadable inline Parseq manifests.

    ``wan``: the renderer hands 'Wan Video' to the Wan renderer (the WebUI's does), so that mode is no problem.
    """
    handled = HANDLED | ({"animation_mode"} if wan and settings.anim.animation_mode == "Wan Video" else set())
    problems = unsupported_features(settings, handled)
    manifest = (settings.parseq.parseq_manifest or "").strip()
    if manifest.startswith(("{", "[")):
        try:
            ParseqHook.from_settings(settings)
        except ParseqError as err:
            problems.append(str(err))
    return problems
