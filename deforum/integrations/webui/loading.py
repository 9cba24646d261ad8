"""Settings files in the WebUI: loaded like anywhere else, with problems reported against the file's name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from deforum.config.settings_io import load, read_json_file
from deforum.models.settings import Settings, SettingsError


def load_mapping(raw: Mapping[str, Any], source: str = "") -> Settings:
    """Load settings from a file's JSON object (legacy keys upgraded, schedules checked)."""
    try:
        return load(dict(raw))
    except SettingsError as err:
        raise SettingsError(err.problems, source) from None


def load_file(path: str | os.PathLike[str]) -> Settings:
    """Load a settings file (either shape the original wrote)."""
    return load_mapping(read_json_file(path), str(path))
