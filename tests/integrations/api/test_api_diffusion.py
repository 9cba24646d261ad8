"""`deforum serve --model PATH` over real HTTP: diffused jobs on a tiny random SD model, depth from --models-dir."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.integrations.api.test_api_http import TINY, Server, frames

pytest.importorskip("diffusers")
pytestmark = pytest.mark.slow

DIFFUSED = {**TINY, "motion_preview_mode": False, "max_frames": 3, "diffusion_cadence": 1, "steps": 4,
            "prompts": {"0": "a red cat"}}


@pytest.fixture(scope="module")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server diffusing with a tiny random SD checkpoint (a diffusers folder), tiny depth weights in models/."""
    from deforum.depth.testing import tiny_models_dir
    from deforum.integrations.diffusers.testing import tiny_pipeline, write_tiny_tokenizer

    base = tmp_path_factory.mktemp("model-server")
    checkpoint = base / "tiny-diffusers"
    tiny_pipeline(write_tiny_tokenizer(base / "tokenizer")).save_pretrained(checkpoint)
    models = tiny_models_dir(base / "models")
    running = Server(base / "out", "--model", str(checkpoint), "--models-dir", str(models))
    yield running
    running.close()


def rendered(server: Server, settings: dict) -> tuple[Path, str, list[np.ndarray]]:
    """Submit one job, wait for success; (folder, timestring, frames as arrays)."""
    status = server.wait(server.submit(settings)["job_ids"][0])
    assert status["status"] == "SUCCEEDED", status["message"]
    images = [np.asarray(Image.open(path).convert("RGB")) for path in frames(status["outdir"], status["timestring"])]
    return Path(status["outdir"]), status["timestring"], images


def test_server_diffuses_a_three_frame_job(model_server: Server) -> None:
    outdir, timestring, diffused = rendered(model_server, {**DIFFUSED, "batch_name": "diffused"})
    assert len(diffused) == 3 and all(image.shape == (64, 64, 3) for image in diffused)
    saved = json.loads((outdir / f"{timestring}_settings.txt").read_text(encoding="utf-8"))
    assert saved["sd_model_name"] == "tiny-diffusers" and not saved["motion_preview_mode"]
    _, _, preview = rendered(model_server, {**DIFFUSED, "motion_preview_mode": True, "batch_name": "preview"})
    assert len(preview) == 3
    assert np.abs(diffused[0].astype(int) - preview[0].astype(int)).mean() > 5.0
    _, _, again = rendered(model_server, {**DIFFUSED, "batch_name": "again"})
    assert all(np.array_equal(a, b) for a, b in zip(diffused, again, strict=True))


def test_server_previews_use_depth_from_models_dir(model_server: Server) -> None:
    settings = {**TINY, "animation_mode": "3D", "max_frames": 2, "save_depth_maps": True, "batch_name": "depth",
                "depth_algorithm": "Depth-Anything-V2-Small",
                "translation_z": "0: (2)"}
    outdir, timestring, images = rendered(model_server, settings)
    assert len(images) == 2
    depth_maps = sorted(outdir.glob(f"{timestring}_depth_*.png"))
    assert [path.name for path in depth_maps] == [f"{timestring}_depth_{i:09}.png" for i in range(2)]
    assert np.ptp(np.asarray(Image.open(depth_maps[0]))) > 0
