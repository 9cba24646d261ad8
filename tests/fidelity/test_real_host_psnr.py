"""Opt-in: each fidelity scenario rendered by the original and by ours in one real A1111 WebUI, PSNR per frame.

Skipped unless WEBUI_DIR (a copy of a WebUI built with the host kit, see docs/fidelity.md; its extensions/ folder
is changed) and FIDELITY_ORIGINAL (the original's git repository: URL, clone or mirror) are set; WEBUI_PYTHON as
for the other real-host tests. Renders with real diffusion (the tiny checkpoint), so the whole pipeline, the
WebUI adapter included, is compared. Target: identical frames (PSNR inf); the table is printed and written to
fidelity_psnr.json in the test's folder. Frames past the original's last one (it lost them with cadence) are not
compared.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deforum.media import frames_io
from deforum.media.frames_io import read_image

ROOT = Path(__file__).resolve().parents[2]
WEBUI_DIR = Path(os.environ["WEBUI_DIR"]) if os.environ.get("WEBUI_DIR") else None
ORIGINAL = os.environ.get("FIDELITY_ORIGINAL")
pytestmark = pytest.mark.skipif(WEBUI_DIR is None or not ORIGINAL,
                                reason="set WEBUI_DIR and FIDELITY_ORIGINAL (see docs/fidelity.md)")


def _record_module():
    spec = importlib.util.spec_from_file_location("fidelity_record", ROOT / "tools" / "fidelity" / "record.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def psnr(ours: np.ndarray, theirs: np.ndarray) -> float:
    """PSNR in dB of two uint8 images (inf when identical)."""
    error = np.mean((ours.astype(np.float64) - theirs.astype(np.float64)) ** 2)
    return math.inf if error == 0 else 10 * math.log10(255.0**2 / error)


def _frames(status: dict) -> list[Path]:
    outdir, timestring = Path(status["outdir"]), status["timestring"]
    return sorted(p for p in outdir.glob(f"{timestring}_*.png") if p.stem.rsplit("_", 1)[-1].isdigit())


def _settings(record, name: str, start: Path) -> dict:
    """The scenario's settings; a motion preview starts from the same init image in both (the original's default
    start image is a bundled photo, ours a test card: compatibility.md)."""
    settings = record.scenario_settings(name)
    if settings.get("motion_preview_mode"):
        settings.update(use_init=True, init_image=str(start))
    return settings


def _render_all(record, python: str, log: Path, start: Path) -> dict[str, list[Path]]:
    host = record.Host(WEBUI_DIR, python, int(os.environ.get("FIDELITY_PORT", "7871")), None, log)
    try:
        return {name: _frames(_succeeded(name, host.run(_settings(record, name, start))))
                for name in record.SCENARIOS}
    finally:
        host.close()


def _succeeded(name: str, status: dict) -> dict:
    assert status["status"] == "SUCCEEDED", f"{name}: {status.get('message')}"
    return status


@pytest.fixture(scope="module")
def renders() -> Iterator[dict[str, tuple[list[Path], list[Path]]]]:
    record = _record_module()
    python = os.environ.get("WEBUI_PYTHON") or str(WEBUI_DIR / "venv" / "bin" / "python")
    with tempfile.TemporaryDirectory(prefix="fidelity-psnr-") as scratch:
        work = Path(scratch)
        start = work / "start.png"
        Image.fromarray(frames_io.test_card(64, 64)).save(start)
        record.mount(WEBUI_DIR, record.fetch_original(ORIGINAL, work / "original"))
        theirs = _render_all(record, python, work / "original.log", start)
        record.mount_ours(WEBUI_DIR)
        ours = _render_all(record, python, work / "ours.log", start)
        yield {name: (ours[name], theirs[name]) for name in theirs}


def test_every_scenario_renders_the_originals_frames(renders, tmp_path: Path) -> None:
    table = {}
    for name, (ours, theirs) in renders.items():
        assert len(ours) >= len(theirs), f"{name}: we wrote {len(ours)} frames, the original {len(theirs)}"
        table[name] = [psnr(read_image(a), read_image(b)) for a, b in zip(ours, theirs, strict=False)]
        print(name, " ".join("inf" if math.isinf(v) else f"{v:.1f}" for v in table[name]))
    (tmp_path / "fidelity_psnr.json").write_text(json.dumps(table, indent=1), encoding="utf-8")
    worst = {name: min(values) for name, values in table.items()}
    assert all(math.isinf(value) for value in worst.values()), f"lowest PSNR per scenario (dB): {worst}"
