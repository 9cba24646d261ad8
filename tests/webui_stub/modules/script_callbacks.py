"""Stub of modules.script_callbacks: registrations are recorded in CALLBACKS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CALLBACKS: dict[str, list[Callable[..., Any]]] = {"ui_tabs": [], "ui_settings": [], "app_started": []}


def on_ui_tabs(callback: Callable[..., Any]) -> None:
    """Register a tab builder."""
    CALLBACKS["ui_tabs"].append(callback)


def on_ui_settings(callback: Callable[..., Any]) -> None:
    """Register a settings-section builder."""
    CALLBACKS["ui_settings"].append(callback)


def on_app_started(callback: Callable[..., Any]) -> None:
    """Register an app-started hook (demo, app)."""
    CALLBACKS["app_started"].append(callback)
