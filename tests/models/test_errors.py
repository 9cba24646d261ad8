"""Every error class Deforum defines descends from the one root, DeforumError, and keeps its builtin kind."""

from __future__ import annotations

import importlib

import pytest

from deforum.models.errors import DeforumError
from tests.test_architecture import MODULES

CONTROL_FLOW = {"RenderCancelled", "BlankFrameStop"}  # raised to stop a render, caught inside it


def error_classes() -> list[type[BaseException]]:
    """Every exception class defined in a light deforum module (modules needing torch, gradio, fastapi skipped)."""
    found = []
    for name in sorted(m for m in MODULES if not m.endswith("__main__")):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        found += [value for value in vars(module).values() if isinstance(value, type)
                  and issubclass(value, BaseException) and value.__module__ == name]
    return found


def test_every_error_descends_from_deforum_error() -> None:
    classes = error_classes()
    assert len(classes) > 20
    outside = [c.__qualname__ for c in classes if not issubclass(c, DeforumError) and c.__name__ not in CONTROL_FLOW]
    assert outside == []


@pytest.mark.parametrize("path, base", [("deforum.models.settings.SettingsError", ValueError),
                                        ("deforum.config.weights.WeightsMissing", FileNotFoundError),
                                        ("deforum.media.video.VideoError", RuntimeError)])
def test_errors_keep_their_builtin_kind(path: str, base: type[Exception]) -> None:
    module, _, name = path.rpartition(".")
    error = getattr(importlib.import_module(module), name)
    assert issubclass(error, DeforumError) and issubclass(error, base)
