"""Put the extension folder on sys.path so the WebUI can import the `deforum` package."""

from __future__ import annotations

import sys
from pathlib import Path

EXTENSION_DIR = Path(__file__).resolve().parent


def extend_paths() -> None:
    """Add the extension folder to sys.path once (the WebUI only adds it while loading a script)."""
    folder = str(EXTENSION_DIR)
    if folder not in sys.path:
        sys.path.insert(0, folder)
