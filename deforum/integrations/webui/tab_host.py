"""The WebUI's side of the tab: the TabHost that hands `deforum.ui` its render, tools, lists and buttons."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from deforum.config.settings_io import load
from deforum.integrations.webui import host, options
from deforum.models.settings import Settings, SettingsError
from deforum.ui.host import TabHost, ToolActions, start_settings

log = logging.getLogger(__name__)


def initial_settings() -> Settings:
    """What the tab starts with: the persistent settings file when that option is on, else the defaults."""
    path = Path(options.get("deforum_persistent_settings_path") or options.DEFAULT_PERSISTENT_PATH)
    if options.get("deforum_enable_persistent_settings") and path.is_file():
        try:
            return load(path)
        except (SettingsError, ValueError, OSError) as err:
            log.warning("Deforum: persistent settings %s not loaded: %s", path, err)
    return start_settings()


def controlnet_choices() -> dict[str, list[str]]:
    """The ControlNet extension's preprocessors and models for the units' dropdowns (none without it)."""
    from deforum.integrations.webui.controlnet import load_external_code

    code = load_external_code()
    if code is None:
        return {}
    try:
        modules, models = list(code.get_modules()), list(code.get_models(update=True))
    except (AttributeError, TypeError, RuntimeError) as err:
        log.warning("Deforum: cannot list the ControlNet extension's modules and models: %s", err)
        return {}
    return {"cn_module": modules, "cn_model": models}


def host_choices() -> dict[str, list[str]]:
    """The WebUI's samplers, schedule types, depth models and ControlNet lists for the tab's dropdowns."""
    from deforum.integrations.webui.tools import depth_choices

    return {"sampler": host.sampler_names(), "scheduler": host.scheduler_names(), "vid2depth": depth_choices(),
            **controlnet_choices()}


def _state_call(method: str) -> Any:
    """A click handler calling the WebUI state's interrupt() or skip() (skip pauses and resumes Deforum)."""

    def handler() -> None:
        """Call the state method."""
        getattr(host.state(), method)()

    return handler


def webui_tab_host() -> TabHost:
    """The TabHost of the running WebUI."""
    from deforum.integrations.webui import tools
    from deforum.integrations.webui.controlnet import load_external_code
    from deforum.integrations.webui.render import render_for_ui

    return TabHost(
        render=render_for_ui, recent_frames=tools.recent_frames, model_info=host.model_info,
        initial_settings=initial_settings, choices=host_choices(), wrap_gpu_call=host.wrap_gpu_call,
        interrupt=_state_call("interrupt"), skip=_state_call("skip"),
        tools=ToolActions(frames_to_video=tools.frames_to_video, vid2depth=tools.vid2depth,
                          interpolate=tools.interpolate_tool, upscale=tools.upscale_tool,
                          video_facts=tools.video_facts),
        controlnet_present=load_external_code() is not None, enhance_prompts=enhance_for_tab)


def enhance_for_tab(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    """(the prompts Wan would use, the same prompts rewritten by Qwen from the WebUI's models folder)."""
    from deforum.integrations.wan.enhance import enhance_settings_prompts
    from deforum.integrations.wan.plan import prompt_source

    options.apply_download_options()
    return prompt_source(settings)[1], enhance_settings_prompts(settings, models_dir=str(host.models_dir()))
