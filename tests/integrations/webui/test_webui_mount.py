"""Mounting in the stub WebUI: callbacks, the settings section, the API with --api-auth, run-now, install.py."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import types
from pathlib import Path

import pytest

from deforum.integrations.webui import jobs, options
from tests.webui_stub.fixture import webui_host  # noqa: F401  (the `webui` fixture)

ROOT = Path(__file__).resolve().parents[3]
TINY = {"W": 64, "H": 64, "max_frames": 2, "animation_mode": "2D", "diffusion_cadence": 1, "seed": 3,
        "skip_video_creation": True}


def load_script(path: Path, name: str) -> types.ModuleType:
    """Load a file as the WebUI loads scripts: a top-level module named after the file."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_shim_registers_tab_settings_and_app_started(webui) -> None:
    load_script(ROOT / "scripts" / "deforum_tab.py", "deforum_tab")
    registered = webui.callbacks.CALLBACKS
    assert [len(registered[k]) for k in ("ui_tabs", "ui_settings", "app_started")] == [1, 1, 1]
    assert (Path(webui.paths.models_path) / "Deforum").is_dir()


def test_settings_section_has_the_original_options(webui, monkeypatch) -> None:
    if importlib.util.find_spec("gradio") is None:
        fake = types.SimpleNamespace(Checkbox="Checkbox", Slider="Slider", Dropdown="Dropdown", Radio="Radio")
        monkeypatch.setitem(sys.modules, "gradio", fake)
    webui.shared.cmd_opts.lowvram = True
    options.on_ui_settings()
    labels = webui.shared.opts.data_labels
    expected = {"deforum_keep_3d_models_in_vram", "deforum_enable_persistent_settings",
                "deforum_persistent_settings_path", "deforum_ffmpeg_location", "deforum_ffmpeg_crf",
                "deforum_ffmpeg_preset", "deforum_debug_mode_enabled", "deforum_save_gen_info_as_srt",
                "deforum_embed_srt", "deforum_save_gen_info_as_srt_params", "deforum_preview",
                "deforum_preview_interval_frames"}
    assert expected <= set(labels) and {labels[k].section for k in expected} == {("deforum", "Deforum")}
    assert labels["deforum_keep_3d_models_in_vram"].component_args["visible"] is False
    assert webui.shared.opts.data["deforum_ffmpeg_crf"] == 17


def test_options_override_skips_restricted_options_and_puts_everything_back(webui) -> None:
    data = webui.shared.opts.data
    with options.OptionsOverride(webui.shared.opts, {"restricted_option": 1, "eta_ddim": 0.3}):
        assert data["eta_ddim"] == 0.3 and "restricted_option" not in data and data["img2img_fix_steps"] is False
        data["CLIP_stop_at_last_layers"] = 4
    assert (data["eta_ddim"], data["CLIP_stop_at_last_layers"], data["img2img_fix_steps"]) == (0.0, 1, True)


def _app(webui, **flags):
    fastapi = pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    for key, value in flags.items():
        setattr(webui.shared.cmd_opts, key, value)
    app = fastapi.FastAPI()
    jobs.on_app_started(None, app)
    return TestClient(app)


def test_api_routes_follow_the_flags(webui) -> None:
    client = _app(webui, deforum_simple_api=True)
    assert client.get("/deforum/api_version").json() == {"version": "1.0"}
    assert client.get("/deforum_api/jobs").status_code == 404


def test_api_auth_protects_the_extension_routes(webui) -> None:
    client = _app(webui, deforum_api=True, api_auth="alice:s3cret")
    assert client.get("/deforum_api/jobs").status_code == 401
    assert client.get("/deforum_api/jobs", auth=("alice", "s3cret")).status_code == 200


def _wait(client, job_id: str) -> dict:
    for _ in range(300):
        status = client.get(f"/deforum_api/jobs/{job_id}").json()
        if status["status"] != "ACCEPTED":
            return status
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_an_api_job_renders_with_the_webui_under_its_lock(webui) -> None:
    client = _app(webui, deforum_api=True)
    answer = client.post("/deforum_api/batches", json={"deforum_settings": TINY,
                                                       "options_overrides": {"eta_ancestral": 0.5}})
    assert answer.status_code == 202
    status = _wait(client, answer.json()["job_ids"][0])
    assert status["status"] == "SUCCEEDED", status
    assert len(list(Path(status["outdir"]).glob("*_00000000[0-9].png"))) == 2
    assert Path(status["outdir"]).parent == (webui.root / "outputs" / "img2img-images").resolve()
    p = webui.processing.CALLS[0]
    assert p.scheduler == "Automatic" and p.opts_at_process["eta_ancestral"] == 0.5
    assert webui.shared.state.begun[-1].startswith("deforum batch(")
    assert webui.shared.opts.data["eta_ancestral"] == 1.0


def test_api_refuses_what_this_build_cannot_render(webui) -> None:
    client = _app(webui, deforum_api=True)
    answer = client.post("/deforum_api/batches", json={"deforum_settings": {**TINY, "cn_1_enabled": True}})
    assert answer.status_code == 422 and "cn_1_enabled" in answer.text and "sd-webui-controlnet" in answer.text


def test_run_now_renders_each_file_and_exits_with_the_outcome(webui) -> None:
    good = webui.root / "good.txt"
    good.write_text(json.dumps(TINY), encoding="utf-8")
    bad = webui.root / "bad.txt"
    bad.write_text(json.dumps({**TINY, "W": "wide"}), encoding="utf-8")
    exits = []
    assert jobs.run_now([str(good)], terminate=True, exit_fn=exits.append) == 0 and exits == [0]
    assert len(webui.processing.CALLS) == 2
    assert jobs.run_now([str(good), str(bad)], exit_fn=exits.append) == 1 and exits == [0]


def test_start_run_now_splits_the_flag_and_runs_in_the_background(webui, monkeypatch) -> None:
    seen = []
    monkeypatch.setattr(jobs, "run_now", lambda files, terminate: seen.append((files, terminate)))
    jobs.start_run_now(" a.txt, b.txt ,", terminate=True).join(5)
    assert seen == [(["a.txt", "b.txt"], True)]


def test_local_files_are_allowed_only_when_the_webui_is_not_exposed(webui) -> None:
    assert jobs.allows_local_files()
    webui.shared.cmd_opts.listen = True
    assert not jobs.allows_local_files()


def test_install_adds_only_missing_packages_and_keeps_the_webuis(monkeypatch) -> None:
    calls = []
    launch = types.SimpleNamespace(run_pip=lambda command, desc: calls.append(command))
    monkeypatch.setitem(sys.modules, "launch", launch)
    install = load_script(ROOT / "install.py", "deforum_install")
    requirements = ["torch==2.14.1", "numpy==2.4.6", "opencv-python-headless==5.0.0.93", "diffusers==0.42.1",
                    "surely-absent-pkg==1.0"]
    assert install.missing(requirements) == ["surely-absent-pkg==1.0"]
    install.install("surely-absent-pkg==1.0", '"numpy==1.26.2"')
    assert calls == ['install "surely-absent-pkg==1.0" "numpy==1.26.2"']


def test_install_falls_back_to_any_version_that_fits(monkeypatch) -> None:
    calls = []

    def run_pip(command: str, desc: str) -> None:
        calls.append(command)
        if "==" in command.split()[1]:
            raise RuntimeError("no matching version")

    monkeypatch.setitem(sys.modules, "launch", types.SimpleNamespace(run_pip=run_pip))
    install = load_script(ROOT / "install.py", "deforum_install")
    install.install("numexpr==9.9", '"numpy==1.26.2"')
    assert calls[-1] == 'install "numexpr" "numpy==1.26.2"'


def test_api_limits_and_retention_come_from_the_environment(webui, monkeypatch) -> None:
    monkeypatch.setenv(jobs.ENV_KEEP_DAYS, "0.5")
    monkeypatch.setenv(jobs.ENV_KEEP_JOBS, "3")
    monkeypatch.setenv(jobs.ENV_MAX_BODY_MB, "0.001")
    client = _app(webui, deforum_api=True)
    assert (jobs.job_queue().retention.days, jobs.job_queue().retention.jobs) == (0.5, 3)
    big = {"deforum_settings": {**TINY, "prompts": {"0": "x" * 5000}}}
    assert client.post("/deforum_api/batches", json=big).status_code == 413
    monkeypatch.setenv(jobs.ENV_KEEP_JOBS, "many")
    assert jobs.retention_from_env().jobs == 1000
