"""Register Deforum with the WebUI: the tab, the settings section and, as the flags say, the API and run-now."""

from __future__ import annotations

import logging
from typing import Any

from deforum.integrations.webui import host

log = logging.getLogger(__name__)

TAB_TITLE = "Deforum"
TAB_ELEM_ID = "deforum_interface"


def on_ui_tabs() -> list[tuple[Any, str, str]]:
    """The on_ui_tabs callback: the Deforum tab."""
    from deforum.integrations.webui.tab_host import webui_tab_host
    from deforum.ui.tab import build_tab

    return [(build_tab(webui_tab_host()), TAB_TITLE, TAB_ELEM_ID)]


def make_models_folder() -> None:
    """Create `models/Deforum` (where depth weights and the persistent settings go), as the original did."""
    try:
        (host.models_dir() / "Deforum").mkdir(parents=True, exist_ok=True)
    except OSError as err:
        log.warning("Deforum: cannot create the models/Deforum folder: %s", err)


def mount() -> None:
    """Register the callbacks with the running WebUI (called when scripts/deforum_tab.py is loaded)."""
    from deforum.integrations.webui.jobs import on_app_started
    from deforum.integrations.webui.options import on_ui_settings

    callbacks = host.module("script_callbacks")
    make_models_folder()
    callbacks.on_ui_tabs(on_ui_tabs)
    callbacks.on_ui_settings(on_ui_settings)
    callbacks.on_app_started(on_app_started)
