"""ControlNet in the WebUI: the sd-webui-controlnet extension's external code API fed with Deforum's units."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from deforum.integrations.features.controlnet import ControlNetError, enabled_units
from deforum.integrations.webui import host
from deforum.integrations.webui.controlnet_map import (
    DETECTED_MAP_FOLDER,
    DETECTED_MAP_OPTION,
    EXTERNAL_CODE_MODULES,
    require_extension,
    to_external_code_kwargs,
)
from deforum.models.generation import GenerationRequest
from deforum.models.settings import Settings

log = logging.getLogger(__name__)


def load_external_code() -> Any | None:
    """The ControlNet extension's `external_code` module, or None when the extension is not installed."""
    for name in EXTERNAL_CODE_MODULES:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def check_controlnet(settings: Settings) -> Any | None:
    """Before a (non-preview) run: the external code module, or a clear error when units need the extension."""
    numbers = [unit.number for unit in enabled_units(settings)]
    if not numbers or settings.args.motion_preview_mode:
        return None
    external_code = load_external_code()
    require_extension(numbers, external_code)
    return external_code


def controlnet_problems(settings: Settings) -> list[str]:
    """Preflight for API jobs: enabled units without the extension."""
    try:
        check_controlnet(settings)
    except ControlNetError as err:
        return [str(err)]
    return []


def _controlnet_script(p: Any, is_img2img: bool) -> Any:
    """The ControlNet always-on script, alone in a copy of the WebUI's script runner (as the original did)."""
    scripts = host.module("scripts")
    runner = scripts.scripts_img2img if is_img2img else scripts.scripts_txt2img
    script = next((s for s in runner.alwayson_scripts if s.title().lower() == "controlnet"), None)
    if script is None:
        raise RuntimeError("The ControlNet extension is installed but its script is not loaded; restart the WebUI.")
    p.scripts = runner
    p.script_args_value = [None] * script.args_to
    return script


def attach_units(p: Any, request: GenerationRequest, external_code: Any) -> None:
    """Give the processing object the request's ControlNet units through the extension's API."""
    if not request.controlnet:
        return
    _controlnet_script(p, request.init_image is not None)
    units = [external_code.ControlNetUnit(**to_external_code_kwargs(unit)) for unit in request.controlnet]
    external_code.update_cn_script_in_processing(p, units, is_img2img=request.init_image is not None, is_ui=False)


def detected_map_options(outdir: Path | None) -> dict[str, str]:
    """The option that sends the extension's detected maps into the run's folder."""
    return {DETECTED_MAP_OPTION: str(Path(outdir) / DETECTED_MAP_FOLDER)} if outdir else {}
