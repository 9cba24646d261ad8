"""The `webui` fixture: the stub `modules` host on sys.path, reset for each test, removed afterwards."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

STUB_DIR = str(Path(__file__).resolve().parent)


def _purge() -> None:
    """Forget the stub modules (the next test imports them afresh)."""
    for name in [n for n in sys.modules if n == "modules" or n.startswith("modules.")]:
        del sys.modules[name]


@pytest.fixture(name="webui")
def webui_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh stub WebUI working in tmp_path: shared, processing, sd_models, script_callbacks, paths..."""
    _purge()
    monkeypatch.syspath_prepend(STUB_DIR)
    monkeypatch.chdir(tmp_path)
    from modules import call_queue, paths, processing, script_callbacks, sd_models, shared

    paths.models_path = str(tmp_path / "models")
    from deforum.integrations.webui import jobs

    yield SimpleNamespace(shared=shared, processing=processing, sd_models=sd_models, callbacks=script_callbacks,
                          call_queue=call_queue, paths=paths, root=tmp_path)
    queue = jobs._QUEUE.pop("queue", None)
    if queue is not None:
        queue.shutdown(timeout=5)
        queue.store.close()
    _purge()
