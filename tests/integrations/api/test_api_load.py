"""The REST API under load (loopback only, bounded): 200 tiny preview jobs from 20 clients with cancels."""

from __future__ import annotations

import concurrent.futures
import random
import time
from pathlib import Path

import pytest

from tests.integrations.api.test_api_http import TINY, Server

JOBS, CLIENTS = 200, 20
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


def ended(status: dict) -> bool:
    """Terminal: finished (phase DONE), or cancelled while still queued (it never runs)."""
    return status["status"] in TERMINAL and (status["phase"] == "DONE" or status["status"] == "CANCELLED")


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


# What a cancel sent right after submitting may meet, and the only final status each answer allows:
# the job was queued or running -> 200, and it ends CANCELLED (a queued one never runs);
# the job had already finished (a one-frame job can finish first) -> 400, and it ends SUCCEEDED.
# Nothing else is legal: no 409, no 5xx, no SUCCEEDED after a 200, no CANCELLED after a 400.
CANCEL_OUTCOMES = {200: "CANCELLED", 400: "SUCCEEDED"}


def client_work(server: Server, client: int, per_client: int) -> list[tuple[str, int | None]]:
    """Submit jobs one after another; cancel about one in six right after submitting (job id, cancel answer)."""
    rng = random.Random(client)
    submitted: list[tuple[str, int | None]] = []
    for _ in range(per_client):
        job_id = server.submit({**TINY, "max_frames": 1, "batch_name": "load"})["job_ids"][0]
        answer = None
        if rng.random() < 1 / 6:
            answer = server.client.delete(f"/deforum_api/jobs/{job_id}").status_code
            assert answer in CANCEL_OUTCOMES, f"cancel of {job_id} answered {answer}"
        submitted.append((job_id, answer))
    return submitted


def expected_status(cancel_answer: int | None) -> str:
    """The final status a job must reach given the answer to its cancel (None: never cancelled)."""
    return "SUCCEEDED" if cancel_answer is None else CANCEL_OUTCOMES[cancel_answer]


@pytest.mark.slow
def test_two_hundred_jobs_from_twenty_clients_all_end(tmp_path: Path) -> None:
    server = Server(tmp_path / "out")
    try:
        warm = server.submit({**TINY, "max_frames": 1, "batch_name": "warm"})["job_ids"][0]
        server.wait(warm, until=lambda s: s["status"] in TERMINAL, seconds=120)
        baseline = rss_mb(server.proc.pid)
        with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            batches = list(pool.map(lambda c: client_work(server, c, JOBS // CLIENTS), range(CLIENTS)))
        jobs = [job for batch in batches for job in batch]
        final = {job_id: server.wait(job_id, until=ended, seconds=600) for job_id, _ in jobs}
        assert len(final) == JOBS and all(s["status"] in TERMINAL for s in final.values())
        wrong = {j: (answer, final[j]["status"]) for j, answer in jobs if final[j]["status"] != expected_status(answer)}
        assert not wrong, f"(cancel answer, final status) outside the legal pairs: {wrong}"
        listed = server.client.get("/deforum_api/jobs", params={"limit": 1000}).json()
        assert set(final) <= set(listed) and all(status["deforum_settings"] is None for status in listed.values())
        for batch in batches:
            order = [final[j]["timestring"] for j, _ in batch if final[j]["status"] == "SUCCEEDED"]
            assert order == sorted(order), "each client's jobs must run in the order it submitted them"
        time.sleep(1.0)
        assert rss_mb(server.proc.pid) - baseline < 100
    finally:
        server.close()
