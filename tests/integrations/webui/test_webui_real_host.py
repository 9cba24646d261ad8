"""The extension inside a real AUTOMATIC1111 WebUI (shared/webui-host.md); skipped unless WEBUI_DIR is set.

Renders 3 frames at 64×64 through --deforum-run-now, the tab's Generate (the WebUI's gradio API) and the REST API,
and checks the frames and the MP4. See tests/integrations/webui/webui_real.py for WEBUI_DIR and WEBUI_PYTHON.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("httpx")
from tests.integrations.webui.webui_real import (  # noqa: E402
    ROOT,
    RUN_SECONDS,
    START_SECONDS,
    TINY,
    WEBUI_DIR,
    WebUI,
    check_run,
    free_port,
    generate_call,
    launch,
    python,
    run_folders,
)

pytestmark = pytest.mark.skipif(WEBUI_DIR is None or not (WEBUI_DIR / "launch.py").is_file(),
                                reason="set WEBUI_DIR to a WebUI prepared as shared/webui-host.md says")


def run_now(tmp_path: Path, name: str, values: dict) -> tuple[Path, str]:
    """Start the WebUI with --deforum-run-now on settings `values`; (the run's folder, the WebUI log)."""
    settings = tmp_path / f"{name}.txt"
    batch = f"{name}_{int(time.time())}"
    settings.write_text(json.dumps({**TINY, **values, "batch_name": batch + "_{timestring}"}), encoding="utf-8")
    log = tmp_path / f"webui-{name}.log"
    proc = launch("--nowebui", "--port", str(free_port()), "--deforum-run-now", str(settings),
                  "--deforum-terminate-after-run-now", log=log)
    try:
        code = proc.wait(START_SECONDS + RUN_SECONDS)
    finally:
        proc.kill()
    assert code == 0, log.read_text()[-4000:]
    folders = run_folders(batch)
    assert len(folders) == 1, log.read_text()[-4000:]
    return folders[0], log.read_text()[-4000:]


def test_run_now_renders_and_terminates(tmp_path: Path) -> None:
    check_run(run_now(tmp_path, "runnow", {})[0])


def test_run_now_renders_3d_with_midas_depth_in_the_webuis_transformers(tmp_path: Path) -> None:
    models = WEBUI_DIR / "models" / "Deforum" / "dpt-hybrid-midas"
    made = subprocess.run([python(), "-c", "import sys; from deforum.depth.testing import save_tiny_model; "
                           "save_tiny_model(sys.argv[1], 'dpt_hybrid')", str(models)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr[-3000:]
    try:
        folder, log = run_now(tmp_path, "depth3d", {"animation_mode": "3D", "use_depth_warping": True,
                                                    "depth_algorithm": "Midas-3-Hybrid", "save_depth_maps": True,
                                                    "translation_z": "0:(5)"})
    finally:
        shutil.rmtree(models, ignore_errors=True)
    depth_maps = sorted(folder.glob("*_depth_*.png"))
    assert len(depth_maps) == 3, log
    for path in depth_maps:
        path.rename(tmp_path / path.name)  # check_run counts every numbered PNG as a frame
    check_run(folder)


@pytest.mark.parametrize("preview", [True, False], ids=["motion-preview", "render"])
def test_run_now_renders_3d_with_depth_anything_v2_from_an_official_file(tmp_path: Path, preview: bool) -> None:
    """DA-V2 Small from a random depth_anything_v2_vits.pth on the WebUI's transformers 4.30 (no Depth-Anything)."""
    weights = WEBUI_DIR / "models" / "Deforum" / "depth_anything_v2_vits.pth"
    made = subprocess.run([python(), "-c", "import sys, transformers; from deforum.depth.testing import "
                           "save_tiny_official; save_tiny_official(sys.argv[1]); print(transformers.__version__, "
                           "hasattr(transformers, 'DepthAnythingForDepthEstimation'))", str(weights)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr[-3000:]
    print("WebUI transformers, has Depth-Anything:", made.stdout.strip())
    try:
        folder, log = run_now(tmp_path, "dav2" + ("preview" if preview else "render"), {
            "animation_mode": "3D", "use_depth_warping": True, "depth_algorithm": "Depth-Anything-V2-Small",
            "save_depth_maps": True, "translation_z": "0:(5)", "motion_preview_mode": preview})
    finally:
        weights.unlink(missing_ok=True)
    depth_maps = sorted(folder.glob("*_depth_*.png"))
    assert len(depth_maps) == 3, log
    import numpy as np
    from PIL import Image

    for path in depth_maps:
        assert len(np.unique(np.asarray(Image.open(path).convert("L")))) > 8, f"{path.name} is flat"
        path.rename(tmp_path / path.name)  # check_run counts every numbered PNG as a frame
    check_run(folder)


@pytest.fixture(scope="module")
def webui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebUI]:
    server = WebUI(tmp_path_factory.mktemp("webui") / "webui.log")
    yield server
    server.close()


def test_the_tab_is_there_and_generate_renders_frames_and_video(webui_server: WebUI) -> None:
    config = webui_server.client.get("/config").json()
    tabs = [c for c in config["components"] if c["props"].get("elem_id") == "tab_deforum_interface"]
    assert tabs, "the Deforum tab is missing"
    batch = f"tab_{int(time.time())}"
    values = {**TINY, "prompts": json.dumps(TINY["prompts"]), "batch_name": batch + "_{timestring}",
              "scheduler": "Automatic"}
    index, data = generate_call(config, values)
    answer = webui_server.client.post("/run/predict", json={"fn_index": index, "data": data, "session_hash": "rh"})
    assert answer.status_code == 200, answer.text
    gallery, video, resume, info, log = answer.json()["data"]
    assert len(gallery) == 3 and video and "3 frame(s)" in info, (info, log)
    assert resume["value"].isdigit() and len(resume["value"]) == 14
    folders = run_folders(batch)
    assert len(folders) == 1
    check_run(folders[0])


def test_an_api_job_renders_with_the_webui_model(webui_server: WebUI) -> None:
    batch = f"api_{int(time.time())}"
    answer = webui_server.client.post("/deforum_api/batches",
                                      json={"deforum_settings": {**TINY, "batch_name": batch + "_{timestring}"}})
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_ids"][0]
    deadline = time.monotonic() + RUN_SECONDS
    status = {}
    while time.monotonic() < deadline:
        status = webui_server.client.get(f"/deforum_api/jobs/{job_id}").json()
        if status["status"] != "ACCEPTED":
            break
        time.sleep(1)
    assert status["status"] == "SUCCEEDED", status
    check_run(Path(status["outdir"]))


def frame_count(outdir: Path) -> int:
    """How many frame PNGs a run folder holds."""
    return len([p for p in outdir.glob("*_[0-9]*.png") if p.stem.rsplit("_", 1)[-1].isdigit()])


def wait_for(predicate, seconds: float = RUN_SECONDS) -> None:
    """Poll until predicate() is true."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_skip_pauses_and_resumes_and_interrupt_keeps_frames_and_video(webui_server: WebUI) -> None:
    client = webui_server.client
    assert client.get("/sdapi/v1/options").json()["deforum_ffmpeg_crf"] == 17
    answer = client.post("/deforum_api/batches", json={"deforum_settings": {**TINY, "max_frames": 400}})
    job_id = answer.json()["job_ids"][0]
    wait_for(lambda: client.get(f"/deforum_api/jobs/{job_id}").json()["outdir"] is not None)
    outdir = Path(client.get(f"/deforum_api/jobs/{job_id}").json()["outdir"])
    wait_for(lambda: frame_count(outdir) >= 3)
    client.post("/sdapi/v1/skip")
    time.sleep(3)
    paused = frame_count(outdir)
    time.sleep(3)
    assert frame_count(outdir) == paused, "frames were written while paused"
    client.post("/sdapi/v1/skip")
    wait_for(lambda: frame_count(outdir) >= paused + 3)
    client.post("/sdapi/v1/interrupt")
    wait_for(lambda: client.get(f"/deforum_api/jobs/{job_id}").json()["status"] != "ACCEPTED")
    status = client.get(f"/deforum_api/jobs/{job_id}").json()
    assert status["status"] == "CANCELLED" and "kept" in status["message"], status
    check_run(outdir, frames=frame_count(outdir))
