"""The API's 202 answer lists the settings a job will not use, as loading a file notes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from deforum.integrations.api.jobs import JobQueue  # noqa: E402
from deforum.integrations.api.models import Batch, BatchAccepted  # noqa: E402
from deforum.integrations.api.router import _submit  # noqa: E402
from deforum.integrations.api.validate import RequestPolicy  # noqa: E402
from tests.conftest import DATA  # noqa: E402


def _accepted(tmp_path: Path, *items: dict) -> dict:
    queue = JobQueue(lambda settings, cancel, progress: None, output_root=tmp_path)
    try:
        response = _submit(queue, RequestPolicy(output_root=tmp_path), Batch(deforum_settings=list(items)))
    finally:
        queue.shutdown()
    assert response.status_code == 202
    return json.loads(response.body)


def test_the_fork_default_file_answers_with_its_unused_keys(tmp_path: Path) -> None:
    fork = json.loads((DATA / "compat/forge-fork/default_settings.txt").read_text("utf-8"))
    fork.update(soundtrack_path="", add_soundtrack="None", color_coherence_image_path="")
    answer = _accepted(tmp_path, fork, fork)
    wan = next(line for line in answer["warnings"] if "wan_t2v_model" in line)
    assert "used only by the Wan Video mode, not by 3D" in wan
    assert any(line.startswith("Not used by this run: store_frames_in_ram") for line in answer["warnings"])
    assert len(answer["warnings"]) == len(set(answer["warnings"])) and len(answer["job_ids"]) == 2


def test_plain_settings_answer_without_warnings(tmp_path: Path) -> None:
    answer = _accepted(tmp_path, {"W": 64, "H": 64, "max_frames": 2, "legacy_colormatch": False})
    assert answer["warnings"] == [] and set(answer) == {"message", "batch_id", "job_ids", "warnings"}
    assert BatchAccepted().warnings == []
