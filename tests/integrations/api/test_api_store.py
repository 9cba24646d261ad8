"""Issue 20 items 7 and 8 in-process: SQLite job records survive a restart, queued jobs run after it, a running job
becomes INTERRUPTED and resumes; retention; paginated listings without settings; body and nesting limits."""

from __future__ import annotations

import inspect
import threading
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from deforum.core.services import CancelToken  # noqa: E402
from deforum.integrations.api.jobs import JobQueue, JobRecord  # noqa: E402
from deforum.integrations.api.models import JobPhase, JobStatusCategory  # noqa: E402
from deforum.integrations.api.router import build_router  # noqa: E402
from deforum.integrations.api.store import JobStore, Retention, record_fields, store_path  # noqa: E402
from deforum.models.settings import Settings  # noqa: E402
from tests.integrations.api.test_api_units import FakeRenderer, FakeResult  # noqa: E402

WAIT = 10.0


class Resumable:
    """A render_fn that blocks on its first job until cancelled, and records the resume timestrings it is given."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.resumes: list[str | None] = []

    def __call__(self, settings: Settings, cancel: CancelToken, progress) -> FakeResult:
        resume = settings.anim.resume_timestring if settings.anim.resume_from_timestring else None
        self.resumes.append(resume)
        progress.output(Path("/out/run"), resume or "20240101000000")
        if resume is None and settings.args.batch_name == "long":
            self.started.set()
            while not cancel.cancelled:
                cancel_wait = threading.Event()
                cancel_wait.wait(0.01)
            return FakeResult(Path("/out/run"), "20240101000000", 2, True)
        return FakeResult(Path("/out/run"), resume or "20240101000000", 3, False)


def _queue(tmp_path: Path, render, **kwargs) -> JobQueue:
    return JobQueue(render, output_root=tmp_path, store=JobStore(store_path(tmp_path)), **kwargs)


def _submit(queue: JobQueue, *names: str) -> list[str]:
    items = [Settings().replace(batch_name=name) for name in names]
    return queue.submit(items, [{"batch_name": name} for name in names])[1]


def test_restart_keeps_statuses_runs_queued_jobs_and_interrupts_the_running_one(tmp_path: Path) -> None:
    render = Resumable()
    first = _queue(tmp_path, render)
    long_id, queued_id = _submit(first, "long", "queued")
    assert render.started.wait(WAIT)
    first.shutdown(timeout=WAIT)
    first.store.close()
    assert first.get(long_id).status is JobStatusCategory.INTERRUPTED
    assert first.get(queued_id).status is JobStatusCategory.ACCEPTED

    second = _queue(tmp_path, render)
    try:
        assert second.wait(queued_id, WAIT).status is JobStatusCategory.SUCCEEDED
        interrupted = second.get(long_id, with_settings=True)
        assert interrupted.status is JobStatusCategory.INTERRUPTED and "resume" in interrupted.message
        assert interrupted.deforum_settings == {"batch_name": "long"}
        assert second.resume(long_id)
        resumed = second.wait(long_id, WAIT)
        assert resumed.status is JobStatusCategory.SUCCEEDED and render.resumes[-1] == "20240101000000"
        assert not second.resume(long_id) and not second.resume(queued_id)
    finally:
        second.shutdown(timeout=WAIT)
        second.store.close()


def test_a_job_running_when_the_process_died_is_interrupted_on_start(tmp_path: Path) -> None:
    store = JobStore(store_path(tmp_path))
    record = JobRecord(id="batch(1)-0", batch_id="batch(1)", phase=JobPhase.GENERATING, timestring="20240101000000")
    store.insert(record.id, record.batch_id, record_fields(record), {"batch_name": "x"}, Settings().to_flat())
    store.close()  # as a kill -9 leaves it: the record still says ACCEPTED/GENERATING
    reopened = _queue(tmp_path, FakeRenderer())
    try:
        restored = reopened.get(record.id)
        assert restored.status is JobStatusCategory.INTERRUPTED and restored.timestring == "20240101000000"
        assert reopened.pending() == []
    finally:
        reopened.shutdown(timeout=WAIT)
        reopened.store.close()


def test_one_server_per_output_root(tmp_path: Path) -> None:
    store = JobStore(store_path(tmp_path))
    try:
        with pytest.raises(RuntimeError, match="Another Deforum server"):
            JobStore(store_path(tmp_path))
    finally:
        store.close()


def test_retention_by_age_and_count(tmp_path: Path) -> None:
    queue = JobQueue(FakeRenderer(), output_root=tmp_path, retention=Retention(days=1.0, jobs=2))
    try:
        ids = _submit(queue, "a", "b", "c", "d")
        queue.wait(ids[-1], WAIT)
        queue.prune()
        assert set(queue.jobs()) == set(ids[2:])
        last = queue.get(ids[-1]).last_updated
        assert queue.prune(now=last + 2 * 86400) == sorted(ids[2:])
        assert queue.jobs() == {} and queue.batches() == {}
    finally:
        queue.shutdown(timeout=WAIT)


@pytest.fixture
def client(tmp_path: Path):
    queue = JobQueue(FakeRenderer(frames=1), output_root=tmp_path / "out")
    app = FastAPI()
    app.include_router(build_router(queue, max_body_bytes=64 * 1024))
    with TestClient(app) as test_client:
        yield test_client, queue
    queue.shutdown(timeout=WAIT)


def test_listings_are_paginated_and_leave_settings_out(client) -> None:
    test_client, queue = client
    ids = _submit(queue, *[f"j{n}" for n in range(5)])
    page = test_client.get("/deforum_api/jobs", params={"offset": 1, "limit": 2})
    assert page.status_code == 200 and list(page.json()) == ids[1:3]
    assert page.headers["x-total-count"] == "5"
    assert all(status["deforum_settings"] is None for status in page.json().values())
    full = test_client.get("/deforum_api/jobs", params={"limit": 1, "include_settings": True}).json()
    assert full[ids[0]]["deforum_settings"] == {"batch_name": "j0"}
    assert test_client.get("/deforum_api/jobs", params={"limit": 100_000}).status_code == 422
    assert len(test_client.get("/deforum_api/batches", params={"limit": 1}).json()) == 1


def test_listing_routes_run_off_the_event_loop(client) -> None:
    _, queue = client
    routes = {(route.path, method): route for route in build_router(queue).routes for method in route.methods}
    for key in (("/deforum_api/jobs", "GET"), ("/deforum_api/batches", "GET"), ("/deforum_api/jobs/{job_id}", "GET"),
                ("/deforum_api/batches/{batch_id}", "GET"), ("/deforum_api/jobs/{job_id}/resume", "POST"),
                ("/deforum_api/jobs/{job_id}", "DELETE"), ("/deforum_api/batches/{batch_id}", "DELETE")):
        assert not inspect.iscoroutinefunction(routes[key].endpoint), key


def test_bodies_over_the_limit_are_413_and_deep_json_is_422(client) -> None:
    test_client, queue = client
    big = {"deforum_settings": {"prompts": {"0": "x" * 100_000}}}
    assert test_client.post("/deforum_api/batches", json=big).status_code == 413
    deep = '{"deforum_settings": ' + "[" * 10_000 + "]" * 10_000 + "}"
    answer = test_client.post("/deforum_api/batches", content=deep, headers={"content-type": "application/json"})
    assert answer.status_code == 422 and "nested too deeply" in answer.json()["message"]
    huge = '{"deforum_settings": {"W": 1' + "0" * 309 + "}}"
    answer = test_client.post("/deforum_api/batches", content=huge, headers={"content-type": "application/json"})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == "W"
    assert queue.jobs() == {}


def test_resume_answers(client) -> None:
    test_client, queue = client
    job_id = _submit(queue, "done")[0]
    queue.wait(job_id, WAIT)
    assert test_client.post(f"/deforum_api/jobs/{job_id}/resume").status_code == 409
    assert test_client.post("/deforum_api/jobs/nope/resume").status_code == 404


def test_a_full_queue_answers_503_and_queues_nothing(client, monkeypatch: pytest.MonkeyPatch) -> None:
    import deforum.integrations.api.jobs as jobs_module

    test_client, queue = client
    monkeypatch.setattr(jobs_module, "MAX_QUEUED_JOBS", 0)
    answer = test_client.post("/deforum_api/batches", json={"deforum_settings": {"W": 64, "H": 64}})
    assert answer.status_code == 503 and "limit" in answer.json()["message"]
    assert queue.jobs() == {}


def test_serve_options_for_limits_and_retention() -> None:
    from deforum.cli import build_parser
    from deforum.cli.serve import add_serve_command

    parser = build_parser((add_serve_command,))
    args = parser.parse_args(["serve", "--max-body-mb", "2", "--keep-jobs-days", "0.5", "--keep-jobs", "10"])
    assert (args.max_body_mb, args.keep_jobs_days, args.keep_jobs) == (2.0, 0.5, 10)
    defaults = parser.parse_args(["serve"])
    assert (defaults.max_body_mb, defaults.keep_jobs_days, defaults.keep_jobs) == (16.0, 7.0, 1000)
