"""Depth test fixtures: an offline, isolated environment and a fake models folder with tiny random models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deforum.depth.locate import MODELS_DIR_ENV

BOTH = ("Depth-Anything-V2-Small", "Midas-3-Hybrid")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No network, an empty Hugging Face cache, no $DEFORUM_MODELS_DIR, and a working folder without models/."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv(MODELS_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fake WebUI models folder: tiny Depth-Anything under Deforum/Depth-Anything-V2-Small-hf, DPT under dpt-large."""
    from deforum.depth.testing import tiny_models_dir

    return tiny_models_dir(tmp_path_factory.mktemp("models"), BOTH)


@pytest.fixture(scope="session")
def image() -> np.ndarray:
    """A 45×61 RGB test image with structure (gradients and a bright square)."""
    y, x = np.mgrid[0:45, 0:61].astype(np.float32)
    rgb = np.stack([x * 4, y * 5, (x + y) * 2], axis=-1)
    rgb[10:25, 20:40] = 250
    return np.clip(rgb, 0, 255).astype(np.uint8)
