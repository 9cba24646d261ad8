"""Wan through the worker process: the same frames as in process, cancel within a clip, resume, clear failures."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deforum.core.services import CancelToken
from deforum.integrations.wan import render_wan, select_models, worker_env
from deforum.integrations.wan.pipelines import default_loader
from deforum.integrations.wan.testing import write_tiny_wan_model
from deforum.integrations.wan.worker import WorkerLoader, pipeline_loader_for, use_worker
from deforum.integrations.wan.worker_protocol import decode, encode
from deforum.media.frames_io import frame_filename, read_image
from tests.integrations.wan.test_wan_render import BASE, TS

pytest.importorskip("ftfy", reason="diffusers' Wan VACE and image-to-video pipelines need ftfy")


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder with a tiny random VACE model."""
    root = tmp_path_factory.mktemp("models")
    write_tiny_wan_model(root / "Deforum" / "wan" / "Wan2.1-VACE-1.3B-diffusers", "vace")
    return root


@pytest.fixture()
def via_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Force the worker, running on this interpreter (it has diffusers' Wan pipelines)."""
    monkeypatch.setenv("DEFORUM_WAN_WORKER", "1")
    monkeypatch.setenv(worker_env.ENV_PYTHON, sys.executable)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))


def frames(outdir: Path, count: int) -> list[np.ndarray]:
    """The run's frames."""
    return [read_image(outdir / frame_filename(TS, i)) for i in range(count)]


def test_arguments_cross_as_files_and_come_back_equal(tmp_path: Path) -> None:
    import torch

    image = Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
    value = {"prompt": "a cat", "video": [image, image], "n": 3, "x": 0.5, "array": np.eye(2, dtype=np.float32),
             "generator": torch.Generator("cpu").manual_seed(11), "none": None}
    back = decode(encode(value, tmp_path))
    assert back["prompt"] == "a cat" and back["n"] == 3 and back["none"] is None
    assert [np.asarray(i).tolist() for i in back["video"]] == [np.asarray(image).tolist()] * 2
    assert np.array_equal(back["array"], value["array"]) and back["generator"].initial_seed() == 11
    with pytest.raises(TypeError, match="object cannot cross"):
        encode(object(), tmp_path)


@pytest.mark.slow
def test_worker_run_gives_the_in_process_frames_and_resumes(models_dir: Path, tmp_path: Path, via_worker) -> None:
    assert use_worker()
    cancel = CancelToken()
    part = render_wan(BASE, tmp_path / "w", models_dir=models_dir, timestring=TS, cancel=cancel,
                      progress=lambda done, total: cancel.cancel())
    assert (part.frames_written, part.cancelled) == (5, True)
    resumed = render_wan(BASE, tmp_path / "w", models_dir=models_dir, resume=TS)
    assert (resumed.frames_written, resumed.cancelled) == (7, False)
    loader = default_loader(select_models(BASE, {"t2v", "i2v"}, models_dir), device="cpu")
    here = render_wan(BASE, tmp_path / "here", pipeline_loader=loader, timestring=TS)
    for index, (worker_frame, local_frame) in enumerate(zip(frames(resumed.outdir, 12), frames(here.outdir, 12))):
        assert np.array_equal(worker_frame, local_frame), index


@pytest.mark.slow
def test_a_cancel_reaches_the_worker_within_a_clip(models_dir: Path, via_worker) -> None:
    loader = pipeline_loader_for(select_models(BASE, {"t2v", "i2v"}, models_dir))
    assert isinstance(loader, WorkerLoader)
    try:
        pipe = loader("t2v")
        assert type(pipe).__name__ == "WanVACEPipeline"
        steps: list[int] = []

        def stop_at_first_step(this, step, timestep, tensors):
            steps.append(step)
            this._interrupt = True
            return tensors

        import torch

        result = pipe(prompt="a cat", height=32, width=32, num_frames=5, num_inference_steps=6, output_type="np",
                      generator=torch.Generator("cpu").manual_seed(1), callback_on_step_end=stop_at_first_step)
        assert steps == [0] and result.frames[0].shape == (5, 32, 32, 3)
        worker = loader.worker
    finally:
        loader.close()
    assert worker.proc.poll() is not None and not worker.exchange.exists()


def test_a_worker_that_dies_is_an_error_with_its_output(models_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'no diffusers here' >&2\nexit 3\n")
    broken.chmod(0o755)
    loader = WorkerLoader(select_models(BASE, {"t2v"}, models_dir), str(broken))
    with pytest.raises(RuntimeError, match=r"The Wan worker stopped \(exit code 3\):\nno diffusers here"):
        loader("t2v")
    loader.close()


def test_an_environment_that_cannot_be_made_stops_before_anything_is_written(
        models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFORUM_WAN_WORKER", "1")
    monkeypatch.delenv(worker_env.ENV_PYTHON, raising=False)
    monkeypatch.setenv(worker_env.ENV_FOLDER, str(tmp_path / "env"))
    monkeypatch.setattr(worker_env.sys, "executable", str(tmp_path / "no-python"))
    notices: list[str] = []
    monkeypatch.setattr(worker_env.log, "warning", notices.append)
    with pytest.raises(worker_env.WanEnvironmentError, match="creating the venv failed.*DEFORUM_WAN_PYTHON"):
        render_wan(BASE, tmp_path / "out", models_dir=models_dir, timestring=TS)
    assert not (tmp_path / "out").exists() and "first use" in notices[0]


def test_a_ready_environment_is_reused_and_a_changed_pin_remakes_it(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(worker_env.ENV_PYTHON, raising=False)
    monkeypatch.setenv(worker_env.ENV_FOLDER, str(tmp_path / "env"))
    python = worker_env.env_python(tmp_path / "env")
    python.parent.mkdir(parents=True)
    python.write_text("")
    (tmp_path / "env" / worker_env.STAMP).write_text(worker_env.stamp_text())
    assert worker_env.worker_python() == str(python)
    made: list[Path] = []
    monkeypatch.setattr(worker_env, "create_env", lambda folder, notice: made.append(folder) or python)
    (tmp_path / "env" / worker_env.STAMP).write_text("an older pin\n")
    assert worker_env.worker_python() == str(python) and made == [tmp_path / "env"]


def test_the_worker_is_only_used_where_wan_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEFORUM_WAN_WORKER", raising=False)
    assert not use_worker()
    monkeypatch.setitem(sys.modules, "diffusers", None)  # as in A1111 v1.10
    assert use_worker()
    monkeypatch.setenv("DEFORUM_WAN_WORKER", "0")
    assert not use_worker()


def test_only_torch_numpy_and_their_requirements_are_shared(tmp_path: Path) -> None:
    shared = worker_env.shared_distributions()
    assert {"torch", "numpy", "filelock"} <= shared.keys()
    assert not {"diffusers", "transformers", "pillow"} & shared.keys()
    worker_env.link_shared(tmp_path / "view", {"numpy": shared["numpy"]})
    links = {path.name: path for path in (tmp_path / "view").iterdir()}
    assert links["numpy"].is_symlink() and links["numpy"].resolve() == Path(np.__file__).parent.resolve()
    assert any(name.startswith("numpy-") and name.endswith(".dist-info") for name in links)
    expected = f"torch=={shared['torch'].version}\nnumpy=={shared['numpy'].version}\n"
    assert worker_env.constraints_text(shared) == expected


def test_the_webuis_api_accepts_wan_video_which_it_hands_to_the_wan_renderer() -> None:
    from deforum.integrations.features.hooks import preflight

    assert preflight(BASE, wan=True) == []
    assert [p for p in preflight(BASE) if p.startswith("Setting 'animation_mode'")]
    assert preflight(BASE.replace(animation_mode="2D"), wan=True) == []
