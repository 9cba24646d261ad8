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


def client_work(server: Server, client: int, per_client: int) -> list[tuple[str, bool]]:
    """Submit jobs one after another; cancel about one in six right after submitting."""
    rng = random.Random(client)
    submitted = []
    for _ in range(per_client):
        job_id = server.submit({**TINY, "max_frames": 1, "batch_name": "load"})["job_ids"][0]
        cancel = rng.random() < 1 / 6
        if cancel:
            assert server.client.delete(f"/deforum_api/jobs/{job_id}").status_code in (200, 409)
        submitted.append((job_id, cancel))
    return submitted


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
        assert all(final[j]["status"] == "CANCELLED" or final[j]["status"] == "SUCCEEDED" for j, _ in jobs)
        assert all(final[j]["status"] == "SUCCEEDED" for j, cancelled in jobs if not cancelled)
        listed = server.client.get("/deforum_api/jobs").json()
        assert set(final) <= set(listed)
        for batch in batches:
            order = [final[j]["timestring"] for j, _ in batch if final[j]["status"] == "SUCCEEDED"]
            assert order == sorted(order), "each client's jobs must run in the order it submitted them"
        time.sleep(1.0)
        assert rss_mb(server.proc.pid) - baseline < 100
    finally:
        server.close()
