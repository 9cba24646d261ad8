"""Issue 20 item 8 over real HTTP: kill -9 the server mid-render, start it again on the same output root.

Statuses are kept, the queued job runs, the running one is INTERRUPTED and its resume through the API gives the
frames of an uninterrupted render, byte for byte."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.integrations.api.test_api_http import TINY, Server, frames

pytest.importorskip("fastapi")

MEDIUM = {**TINY, "max_frames": 60, "seed": 7, "diffusion_cadence": 2, "animation_mode": "2D",
          "zoom": "0: (1.02)", "angle": "0: (1)"}


def _kill(server: Server) -> None:
    """Kill -9: no shutdown code runs."""
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(30)
    server.client.close()
    server.proc.stdout.close()


def test_restart_after_kill_keeps_statuses_runs_the_queue_and_resumes_identically(tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    first = Server(outdir)
    running = first.submit({**MEDIUM, "batch_name": "resumed"})["job_ids"][0]
    queued = first.submit({**TINY, "batch_name": "queued"})["job_ids"][0]
    first.wait(running, until=lambda s: s["phase"] == "GENERATING" and s["phase_progress"] > 0.1)
    _kill(first)
    second = Server(outdir)
    try:
        assert second.wait(queued)["status"] == "SUCCEEDED"
        status = second.job(running)
        assert status["status"] == "INTERRUPTED" and status["timestring"]
        kept = len(frames(status["outdir"], status["timestring"]))
        assert 0 < kept < MEDIUM["max_frames"]
        answer = second.client.post(f"/deforum_api/jobs/{running}/resume")
        assert answer.status_code == 202, answer.text
        done = second.wait(running, until=lambda s: s["phase"] == "DONE" and s["status"] != "ACCEPTED")
        assert done["status"] == "SUCCEEDED" and done["timestring"] == status["timestring"]
        reference = second.wait(second.submit({**MEDIUM, "batch_name": "reference"})["job_ids"][0])
        ours, theirs = frames(done["outdir"], done["timestring"]), frames(reference["outdir"], reference["timestring"])
        assert len(ours) == len(theirs) == MEDIUM["max_frames"]
        assert [p.read_bytes() for p in ours] == [p.read_bytes() for p in theirs]
    finally:
        second.close()


def test_a_graceful_stop_leaves_queued_jobs_queued(tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    first = Server(outdir)
    blocker = first.submit({**TINY, "max_frames": 5000, "batch_name": "blocker"})["job_ids"][0]
    waiting = first.submit({**TINY, "batch_name": "waiting"})["job_ids"][0]
    first.wait(blocker, until=lambda s: s["phase"] == "GENERATING")
    first.close()
    second = Server(outdir)
    try:
        assert second.job(blocker)["status"] == "INTERRUPTED"
        assert second.wait(waiting)["status"] == "SUCCEEDED"
        assert second.client.get("/deforum_api/jobs").headers["x-total-count"] == "2"
    finally:
        second.close()
