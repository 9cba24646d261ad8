"""The REST API over real HTTP: `python -m deforum.integrations.api` in a subprocess on a free loopback port."""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

ROOT = Path(__file__).resolve().parents[3]
START_SECONDS = 60.0
JOB_SECONDS = 60.0
TINY = {"W": 64, "H": 64, "max_frames": 4, "animation_mode": "2D", "skip_video_creation": True, "seed": 1,
        "motion_preview_mode": True}
LONG = {**TINY, "max_frames": 5000}
AUTH = ("alice", "s3cret")


class Server:
    """A server subprocess and an HTTP client bound to it."""

    def __init__(self, outdir: Path, *args: str, auth: tuple[str, str] | None = None) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        env.pop("DEFORUM_API_AUTH", None)
        self.outdir = outdir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deforum.integrations.api", "--port", "0", "--outdir", str(outdir), *args],
            cwd=outdir.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.url = self._read_url()
        self.client = httpx.Client(base_url=self.url, timeout=30.0, auth=auth)
        self._wait_ready()

    def _read_url(self) -> str:
        seen = []
        for line in self.proc.stdout:
            if "http://" in line:
                return line.split(" on ")[1].split()[0]
            seen.append(line)
        self.proc.kill()
        raise RuntimeError(f"server did not start: {''.join(seen)}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                if self.client.get("/openapi.json").status_code in (200, 401):
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer")

    def close(self) -> None:
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc.stdout.close()

    def submit(self, *settings: dict, **body: object) -> dict:
        payload = {"deforum_settings": list(settings) if len(settings) > 1 else settings[0], **body}
        response = self.client.post("/deforum_api/batches", json=payload)
        assert response.status_code == 202, response.text
        return response.json()

    def job(self, job_id: str) -> dict:
        response = self.client.get(f"/deforum_api/jobs/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait(self, job_id: str, until=lambda s: s["status"] != "ACCEPTED", seconds: float = JOB_SECONDS) -> dict:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status = self.job(job_id)
            if until(status):
                return status
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} still {status}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server without auth that refuses local files."""
    running = Server(tmp_path_factory.mktemp("open") / "out")
    yield running
    running.close()


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with Basic auth (two users) that allows local files."""
    running = Server(tmp_path_factory.mktemp("locked") / "out", "--auth", "alice:s3cret,bob:pa:ss",
                     "--allow-local-files", auth=AUTH)
    yield running
    running.close()


def frames(outdir: str, timestring: str) -> list[Path]:
    return sorted(Path(outdir).glob(f"{timestring}_[0-9]*.png"))


def test_submit_poll_until_succeeded(server: Server) -> None:
    accepted = server.submit({**TINY, "batch_name": "one"})
    assert accepted["message"] == "Job(s) accepted" and accepted["job_ids"] == [f"{accepted['batch_id']}-0"]
    status = server.wait(accepted["job_ids"][0])
    assert status["status"] == "SUCCEEDED", status["message"]
    assert status["phase"] == "DONE" and status["phase_progress"] == 1.0 and status["error_type"] == "NONE"
    assert Path(status["outdir"]) == server.outdir.resolve() / "one" and len(status["timestring"]) == 14
    assert len(frames(status["outdir"], status["timestring"])) == 4
    assert (Path(status["outdir"]) / f"{status['timestring']}_settings.txt").is_file()
    assert status["deforum_settings"]["batch_name"] == "one" and status["options_overrides"] is None
    assert status["updates"] >= 4 and status["execution_time"] > 0 and status["last_updated"] > status["started_at"]


def test_batches_and_jobs_are_listed(server: Server) -> None:
    accepted = server.submit({**TINY, "batch_name": "l0"}, {**TINY, "batch_name": "l1"},
                             options_overrides={"CLIP_stop_at_last_layers": 2})
    batch_id, job_ids = accepted["batch_id"], accepted["job_ids"]
    assert server.client.get("/deforum_api/batches").json()[batch_id] == job_ids
    statuses = server.client.get(f"/deforum_api/batches/{batch_id}").json()
    assert [s["id"] for s in statuses] == job_ids
    assert statuses[0]["options_overrides"] == {"CLIP_stop_at_last_layers": 2}
    listed = server.client.get("/deforum_api/jobs").json()
    assert set(job_ids) <= set(listed) and listed[job_ids[1]]["deforum_settings"] is None
    full = server.client.get("/deforum_api/jobs", params={"include_settings": "true"}).json()
    assert full[job_ids[1]]["deforum_settings"]["batch_name"] == "l1"
    assert all(server.wait(i)["status"] == "SUCCEEDED" for i in job_ids)


def test_unknown_ids_are_404(server: Server) -> None:
    for method, path in (("GET", "batches"), ("DELETE", "batches"), ("GET", "jobs"), ("DELETE", "jobs")):
        response = server.client.request(method, f"/deforum_api/{path}/batch(1)-9")
        assert response.status_code == 404 and response.json()["id"] == "batch(1)-9"


def test_bad_requests_are_400_or_422_naming_the_key(server: Server) -> None:
    before = len(server.client.get("/deforum_api/jobs").json())
    assert server.client.post("/deforum_api/batches", json={"deforum_settings": []}).status_code == 400
    assert server.client.post("/deforum_api/batches", json={}).status_code == 400
    assert server.client.post("/deforum_api/batches", json={"deforum_settings": "x"}).status_code == 422
    response = server.client.post("/deforum_api/batches", json={"deforum_settings": [
        TINY, {**TINY, "strength_schedule": "0: (0.65", "animation_mode": "4D", "W": "wide"}]})
    assert response.status_code == 422
    body = response.json()
    assert {tuple(p["loc"]) for p in body["detail"]} == {
        ("body", "deforum_settings", 1, key) for key in ("strength_schedule", "animation_mode", "W")}
    assert "strength_schedule" in body["message"] and "animation_mode" in body["message"]
    wan = {**TINY, "animation_mode": "Wan Video"}
    unsupported = server.client.post("/deforum_api/batches", json={"deforum_settings": wan})
    assert unsupported.status_code == 422 and unsupported.json()["detail"][0]["loc"][-1] == "animation_mode"
    assert len(server.client.get("/deforum_api/jobs").json()) == before


def test_diffusion_job_without_model_is_refused_naming_the_fix(server: Server) -> None:
    before = len(server.client.get("/deforum_api/jobs").json())
    response = server.client.post("/deforum_api/batches",
                                  json={"deforum_settings": {**TINY, "motion_preview_mode": False}})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "deforum_settings", 0, "motion_preview_mode"]
    assert "--model PATH" in problem["msg"] and "motion_preview_mode true" in problem["msg"]
    assert len(server.client.get("/deforum_api/jobs").json()) == before


@pytest.mark.parametrize(("key", "value"), [
    ("batch_name", "../escaped"), ("batch_name", "/tmp/absolute"), ("outdir", "/tmp"), ("outdir", "../up"),
    ("init_image", "/etc/passwd"), ("init_image", "file:///etc/passwd"), ("video_init_path", "../video.mp4"),
    ("mask_file", "mask.png"), ("soundtrack_path", "/etc/hosts"), ("color_coherence_image_path", "c.png"),
    ("parseq_manifest", "/etc/passwd"), ("cn_3_vid_path", "/etc/passwd"), ("cn_1_mask_vid_path", "/dev/zero"),
    ("init_images", json.dumps({"0": "/etc/passwd"})), ("resume_timestring", "../../x"),
])
def test_path_escapes_and_local_files_are_refused(server: Server, key: str, value: str) -> None:
    extra = {"resume_from_timestring": True} if key == "resume_timestring" else {}
    response = server.client.post("/deforum_api/batches", json={"deforum_settings": {**TINY, key: value, **extra}})
    assert response.status_code == 422, response.text
    assert {p["loc"][-1] for p in response.json()["detail"]} == {key}


def test_option_override_folders_must_stay_inside(server: Server) -> None:
    response = server.client.post("/deforum_api/batches", json={
        "deforum_settings": TINY, "options_overrides": {"outdir_samples": "../../elsewhere"}})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == [
        "body", "options_overrides", "outdir_samples"]


def test_cancel_running_job_keeps_its_frames(server: Server) -> None:
    job_id = server.submit({**LONG, "batch_name": "cancel_running"})["job_ids"][0]
    server.wait(job_id, until=lambda s: s["phase"] == "GENERATING" and s["phase_progress"] > 0)
    response = server.client.delete(f"/deforum_api/jobs/{job_id}")
    assert response.status_code == 200 and response.json() == {"id": job_id, "message": "Job cancelled."}
    status = server.wait(job_id, until=lambda s: s["phase"] == "DONE")
    assert status["status"] == "CANCELLED" and "kept" in status["message"]
    kept = frames(status["outdir"], status["timestring"])
    assert 0 < len(kept) < LONG["max_frames"]
    assert server.client.delete(f"/deforum_api/jobs/{job_id}").status_code == 400


def test_cancel_queued_job_never_runs(server: Server) -> None:
    first = server.submit({**LONG, "batch_name": "blocker"})
    second = server.submit({**TINY, "batch_name": "never_runs"})["job_ids"][0]
    server.wait(first["job_ids"][0], until=lambda s: s["phase"] == "GENERATING")
    assert server.client.delete(f"/deforum_api/jobs/{second}").status_code == 200
    cancelled = server.client.delete(f"/deforum_api/batches/{first['batch_id']}").json()
    assert cancelled == {"ids": first["job_ids"], "message": "1 job(s) cancelled."}
    server.wait(first["job_ids"][0], until=lambda s: s["phase"] == "DONE")
    follow_up = server.submit({**TINY, "batch_name": "after"})["job_ids"][0]
    assert server.wait(follow_up)["status"] == "SUCCEEDED"
    status = server.job(second)
    assert status["status"] == "CANCELLED" and status["phase"] == "QUEUED" and status["outdir"] is None
    assert not (server.outdir / "never_runs").exists()


def test_auth_required_when_configured(locked: Server) -> None:
    bare = httpx.Client(base_url=locked.url, timeout=10.0)
    for path in ("/deforum_api/jobs", "/deforum_api/batches", "/deforum/api_version"):
        response = bare.get(path)
        assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Basic")
    assert bare.get("/deforum_api/jobs", auth=("alice", "wrong")).status_code == 401
    assert bare.get("/deforum_api/jobs", auth=("mallory", "s3cret")).status_code == 401
    assert bare.get("/deforum_api/jobs", headers={"Authorization": "Basic !!!"}).status_code == 401
    assert bare.get("/deforum_api/jobs", auth=("bob", "pa:ss")).status_code == 200
    assert bare.post("/deforum_api/batches", json={"deforum_settings": TINY}).status_code == 401
    bare.close()


def test_no_auth_when_not_configured(server: Server) -> None:
    assert server.client.get("/deforum_api/jobs", auth=None).status_code == 200


def test_local_files_when_allowed_must_exist_and_are_read(locked: Server, tmp_path: Path) -> None:
    missing = locked.client.post("/deforum_api/batches", json={"deforum_settings": {
        **TINY, "use_init": True, "init_image": str(tmp_path / "missing.png")}})
    assert missing.status_code == 422 and "not found" in missing.json()["detail"][0]["msg"]
    from deforum.media.frames_io import test_card, write_png_atomic

    image = tmp_path / "init.png"
    write_png_atomic(image, test_card(64, 64))
    job_id = locked.submit({**TINY, "use_init": True, "init_image": str(image), "batch_name": "with_init",
                            "mask_file": "/not/used.png"})["job_ids"][0]
    assert locked.wait(job_id)["status"] == "SUCCEEDED"


def test_simple_api(server: Server) -> None:
    assert server.client.get("/deforum/api_version").json() == {"version": "1.0"}
    import deforum

    assert server.client.get("/deforum/version").json() == {"version": deforum.__version__}
    settings_json = json.dumps({**TINY, "batch_name": "ignored"})
    response = server.client.post("/deforum/run", params={
        "settings_json": settings_json, "allowed_params": ";".join([*TINY, "batch_name"])})
    assert response.status_code == 200, response.text
    body = response.json()
    outdir = Path(body["outdir"])
    assert body["status"] == "SUCCEEDED" and outdir.parent == server.outdir.resolve() and len(outdir.name) == 32
    saved = json.loads(next(outdir.glob("*_settings.txt")).read_text())
    assert saved["W"] == 64 and saved["max_frames"] == 4 and saved["motion_preview_mode"] is True
    bad = server.client.post("/deforum/run", params={"settings_json": '{"W": "x"}', "allowed_params": "W"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "W"
    assert server.client.post("/deforum/run", params={"settings_json": "{"}).status_code == 422


def test_waiting_run_does_not_block_and_survives_disconnect(server: Server) -> None:
    params = {"settings_json": json.dumps({**LONG, "batch_name": "x"}), "allowed_params": ";".join(TINY)}
    with pytest.raises(httpx.TimeoutException):
        server.client.post("/deforum/run", params=params, timeout=1.0)
    assert server.client.get("/deforum/api_version", timeout=10.0).status_code == 200
    job_id = list(server.client.get("/deforum_api/jobs").json())[-1]
    seen = server.wait(job_id, until=lambda s: s["phase_progress"] > 0)
    assert seen["deforum_settings"]["max_frames"] == LONG["max_frames"]
    later = server.wait(job_id, until=lambda s: s["phase_progress"] > seen["phase_progress"])
    assert later["status"] == "ACCEPTED"
    assert server.client.delete(f"/deforum_api/jobs/{job_id}").status_code == 200
    assert server.wait(job_id, until=lambda s: s["phase"] == "DONE")["status"] == "CANCELLED"


def test_openapi_documents_every_route_with_examples(server: Server) -> None:
    schema = server.client.get("/openapi.json").json()
    assert set(schema["paths"]) == {
        "/deforum_api/batches", "/deforum_api/batches/{batch_id}", "/deforum_api/jobs",
        "/deforum_api/jobs/{job_id}", "/deforum_api/jobs/{job_id}/resume", "/deforum/api_version",
        "/deforum/version", "/deforum/run"}
    post = schema["paths"]["/deforum_api/batches"]["post"]
    assert set(post["requestBody"]["content"]["application/json"]["examples"]) == {"one_job", "batch"}
    assert all(op.get("summary") for path in schema["paths"].values() for op in path.values())
    assert "swagger" in server.client.get("/docs").text.lower()


@pytest.mark.slow
def test_fifty_concurrent_jobs_all_finish(server: Server) -> None:
    tiny = {**TINY, "max_frames": 2, "batch_name": "burst"}
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        accepted = list(pool.map(lambda _: server.submit(tiny), range(50)))
    submitted = time.monotonic() - started
    job_ids = [a["job_ids"][0] for a in accepted]
    assert len(set(job_ids)) == 50
    final = [server.wait(i, seconds=120.0) for i in job_ids]
    elapsed = time.monotonic() - started
    assert all(s["status"] == "SUCCEEDED" for s in final), [s["message"] for s in final]
    runs = {(s["outdir"], s["timestring"]) for s in final}
    assert len(runs) == 50 and all(len(frames(*run)) == 2 for run in runs)
    print(f"50 concurrent tiny jobs: submitted in {submitted:.2f} s, all finished in {elapsed:.2f} s")
