"""Shared fixtures: the compatibility settings files and small settings for fast renders."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED_COMPAT = ROOT.parent / "shared" / "compat"
# numba (librosa's beat tracker) caches compiled code; two test workers compiling into one cache at once leave a
# corrupt cache that crashes the next process, so each worker (and the commands it starts) keeps its own. Set, not
# defaulted: xdist workers inherit the controller's environment.
os.environ["NUMBA_CACHE_DIR"] = os.path.join(
    tempfile.gettempdir(), f"deforum-numba-{os.getuid()}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never leave the machine: downloads are off unless a test turns them on against its loopback server."""
    from deforum.config import fetch

    monkeypatch.setenv("DEFORUM_OFFLINE", "1")
    monkeypatch.delenv("DEFORUM_ALLOW_LARGE_DOWNLOADS", raising=False)
    monkeypatch.setattr(fetch, "_FLAGS", {"offline": False, "allow_large": False})


def compat_settings_files() -> list[Path]:
    """Every settings file the original (and the Forge fork) wrote: shared/compat when present, else our copies."""
    base = SHARED_COMPAT if SHARED_COMPAT.is_dir() else DATA / "compat"
    return sorted(p for p in base.rglob("*.txt"))


@pytest.fixture(params=compat_settings_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def compat_file(request: pytest.FixtureRequest) -> Path:
    """One compat settings file."""
    return request.param


@pytest.fixture
def example_video() -> Path:
    """The original's example init video (skips when shared/compat is absent)."""
    path = SHARED_COMPAT / "original" / "example_init_vid.mp4"
    if not path.is_file():
        pytest.skip("shared/compat/original/example_init_vid.mp4 is not present")
    return path


class RecordingPreviewService:
    """A motion-preview model service that records every request it is given."""

    def __init__(self) -> None:
        from deforum.core.preview import PreviewModelService

        self.preview = PreviewModelService()
        self.requests: list = []

    def generate(self, request, cancel=None):
        """Record the request, then answer as the preview does."""
        self.requests.append(request)
        return self.preview.generate(request, cancel)
