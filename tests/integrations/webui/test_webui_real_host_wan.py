"""Wan Video in a real A1111 v1.10 (no diffusers, transformers 4.30) through the isolated worker; opt-in.

Skipped unless WEBUI_DIR is set (see webui_real.py). A tiny random VACE model goes into the WebUI's models
folder; the first Wan run creates the worker's environment ($DEFORUM_WAN_ENV, default a folder next to
WEBUI_DIR; it needs the package index once), later runs reuse it. Each test checks the WebUI's `pip freeze`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("httpx")
pytest.importorskip("ftfy", reason="the tiny Wan model is written with diffusers' Wan pipelines")
from tests.integrations.webui.webui_real import (  # noqa: E402
    TINY,
    WEBUI_DIR,
    WebUI,
    check_run,
    generate_call,
    python,
    run_folders,
)

pytestmark = pytest.mark.skipif(WEBUI_DIR is None or not (WEBUI_DIR / "launch.py").is_file(),
                                reason="set WEBUI_DIR to a WebUI prepared as shared/webui-host.md says")
FIRST_USE_SECONDS = 1800
WAN = {**TINY, "animation_mode": "Wan Video", "wan_resolution": "64x64", "wan_inference_steps": 2}


def pip_freeze() -> str:
    """The WebUI environment's installed packages."""
    return subprocess.run([python(), "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def wan_webui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebUI, str, bool]]:
    """A WebUI with a tiny VACE model and the worker's environment folder set; (it, pip freeze, env is new)."""
    from deforum.integrations.wan.testing import write_tiny_wan_model

    model = WEBUI_DIR / "models" / "Deforum" / "wan" / "Wan2.1-VACE-1.3B-diffusers"
    write_tiny_wan_model(model, "vace")
    env_before = os.environ.get("DEFORUM_WAN_ENV")
    os.environ["DEFORUM_WAN_ENV"] = env_before or str(WEBUI_DIR.parent / f"{WEBUI_DIR.name}-wan-env")
    freeze = pip_freeze()
    new_env = not (Path(os.environ["DEFORUM_WAN_ENV"]) / ".deforum-wan-ready").is_file()
    no_diffusers = subprocess.run([python(), "-c", "import diffusers"], capture_output=True, text=True)
    assert no_diffusers.returncode != 0, "this WebUI has diffusers: the worker would not be used"
    server = WebUI(tmp_path_factory.mktemp("wan") / "webui.log")
    deadline = time.monotonic() + 120  # the WebUI answers /sdapi before app-started callbacks mount our routes
    while server.client.get("/deforum_api/batches").status_code == 404 and time.monotonic() < deadline:
        time.sleep(1)
    try:
        yield server, freeze, new_env
    finally:
        server.close()
        shutil.rmtree(model, ignore_errors=True)
        if env_before is None:
            os.environ.pop("DEFORUM_WAN_ENV", None)


def test_an_api_wan_job_runs_through_the_worker(wan_webui: tuple[WebUI, str, bool]) -> None:
    server, freeze, new_env = wan_webui
    batch = f"wanapi_{int(time.time())}"
    answer = server.client.post("/deforum_api/batches",
                                json={"deforum_settings": {**WAN, "batch_name": batch + "_{timestring}"}})
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_ids"][0]
    deadline, status = time.monotonic() + FIRST_USE_SECONDS, {}
    while time.monotonic() < deadline:
        status = server.client.get(f"/deforum_api/jobs/{job_id}").json()
        if status["status"] != "ACCEPTED":
            break
        time.sleep(2)
    log = server.log.read_text()
    assert status["status"] == "SUCCEEDED", (status, log[-4000:])
    check_run(Path(status["outdir"]))
    assert "Wan worker started" in log and ("first use, setting up its own Python environment" in log) == new_env
    assert pip_freeze() == freeze


def test_the_tabs_generate_runs_wan_through_the_worker(wan_webui: tuple[WebUI, str, bool]) -> None:
    server, freeze, _ = wan_webui
    config = server.client.get("/config").json()
    batch = f"wantab_{int(time.time())}"
    values = {**WAN, "prompts": json.dumps(WAN["prompts"]), "batch_name": batch + "_{timestring}",
              "scheduler": "Automatic"}
    index, data = generate_call(config, values)
    elem_ids = {c["props"].get("elem_id") for c in config["components"]}
    assert {"deforum_animation_mode", "deforum_wan_resolution", "deforum_wan_inference_steps"} <= elem_ids
    server.client.timeout = FIRST_USE_SECONDS
    answer = server.client.post("/run/predict", json={"fn_index": index, "data": data, "session_hash": "wan"})
    assert answer.status_code == 200, answer.text
    gallery, video, resume, info, log = answer.json()["data"]
    assert len(gallery) == 3 and video and "3 frame(s)" in info, (info, log, server.log.read_text()[-4000:])
    folders = run_folders(batch)
    assert len(folders) == 1
    check_run(folders[0])
    assert pip_freeze() == freeze
