"""The standalone server's jobs: the preview video from `options_overrides`, the 422 without a model, flow weights
from the models folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deforum.media.video import count_video_frames

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

PREVIEW_JOB = {"W": 64, "H": 64, "max_frames": 6, "animation_mode": "2D", "seed": 1, "motion_preview_mode": True,
               "diffusion_cadence": 1}


def serving(root: Path, environment: object = None) -> tuple[object, object]:
    """A test client and queue of a standalone server without a model, rendering into root."""
    from fastapi.testclient import TestClient

    from deforum.integrations.api.jobs import JobQueue
    from deforum.integrations.api.standalone import create_app, render_fn

    queue = JobQueue(render_fn(root, environment), output_root=root)
    return TestClient(create_app(queue, has_model=False)), queue


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[object, object]]:
    """A server without a model."""
    client, queue = serving(tmp_path)
    yield client, queue
    queue.shutdown(cancel_running=True, timeout=10)


def run_job(served: tuple, settings: dict, overrides: dict | None = None) -> tuple[Path, str]:
    """Submit one job and wait; its folder and timestring."""
    client, queue = served
    answer = client.post("/deforum_api/batches", json={"deforum_settings": settings, "options_overrides": overrides})
    assert answer.status_code == 202, answer.text
    record = queue.wait(answer.json()["job_ids"][0], timeout=120)
    assert record.status.value == "SUCCEEDED", record.message
    return Path(record.outdir), record.timestring


@pytest.mark.parametrize(("overrides", "frames_in_preview"), [
    ({"deforum_preview": "On", "deforum_preview_interval_frames": 2}, 4),
    ({"deforum_preview": "On, concurrent (don't pause generation)", "deforum_preview_interval_frames": 3}, 3),
    ({"deforum_preview": "Off", "deforum_preview_interval_frames": 2}, None),
    (None, None)])
def test_preview_video_option_override(served: tuple, overrides: dict | None, frames_in_preview: int | None) -> None:
    outdir, timestring = run_job(served, {**PREVIEW_JOB, "batch_name": "pv"}, overrides)
    preview = outdir / f"{timestring}_preview.mp4"
    assert (count_video_frames(str(preview)) if preview.exists() else None) == frames_in_preview
    assert count_video_frames(str(outdir / f"{timestring}.mp4")) == 6


def test_without_model_a_diffusion_job_is_refused_and_nothing_queued(served: tuple) -> None:
    client, queue = served
    answer = client.post("/deforum_api/batches", json={"deforum_settings": [
        PREVIEW_JOB, {**PREVIEW_JOB, "motion_preview_mode": False}]})
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "deforum_settings", 1, "motion_preview_mode"]
    assert "--model PATH" in problem["msg"]
    assert client.get("/deforum_api/jobs").json() == {}


def test_server_jobs_take_flow_weights_from_the_models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from deforum.integrations.services import Environment
    from deforum.media import flow

    looked_in, flows = [], []

    class StillFlow:
        def flow(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
            flows.append(a.shape)
            return np.zeros((*a.shape[:2], 2), np.float32)

    monkeypatch.setattr(flow, "find_raft_weights", lambda models_dir: looked_in.append(models_dir) or Path("w"))
    monkeypatch.setattr(flow, "load_raft", lambda path, device: StillFlow())
    models = str(tmp_path / "models")
    client, queue = serving(tmp_path / "out", Environment(models_dir=models))
    try:
        run_job((client, queue), {**PREVIEW_JOB, "max_frames": 5, "diffusion_cadence": 2,
                                  "optical_flow_cadence": "RAFT", "batch_name": "flow"})
    finally:
        queue.shutdown(cancel_running=True, timeout=10)
    assert looked_in == [models] and flows and all(shape == (64, 64, 3) for shape in flows)
