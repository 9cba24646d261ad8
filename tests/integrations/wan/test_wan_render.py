"""Wan Video runs through the real diffusers Wan pipelines with tiny random weights (32×32, 2 steps, CPU)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from deforum.config.settings_io import load
from deforum.core.services import CancelToken
from deforum.integrations.wan import WanModelMissing, plan_clips, render_wan, select_models
from deforum.integrations.wan.pipelines import default_loader, generate_clip
from deforum.integrations.wan.testing import tiny_text_encoder, tiny_tokenizer, tiny_wan_pipeline, write_tiny_wan_model
from deforum.media.frames_io import frame_filename, read_image, write_png_atomic
from deforum.media.video import ffmpeg_path, probe_media
from tests.conftest import ROOT

pytest.importorskip("ftfy", reason="diffusers' Wan VACE and image-to-video pipelines need ftfy")
TS = "20250101000000"
BASE = load(ROOT / "default_settings.txt").replace(
    animation_mode="Wan Video", max_frames=12, prompts={"0": "a cat", "5": "a dog"}, animation_prompts_positive="",
    animation_prompts_negative="", wan_resolution="32x32", wan_inference_steps=2, seed=7, seed_behavior="iter",
    add_soundtrack="None", skip_video_creation=True, batch_name="wan")


class Recorder:
    """Turns a pipeline into one that records each call's arguments and seed (class name kept for dispatch)."""

    def __init__(self, pipe) -> None:
        self.calls: list[dict] = []
        calls, base = self.calls, type(pipe)

        def record(this, **kwargs):
            """Record, then call the real pipeline."""
            calls.append({**kwargs, "seed": kwargs["generator"].initial_seed()})
            return base.__call__(this, **kwargs)

        pipe.__class__ = type(base.__name__, (base,), {"__call__": record})
        self.pipe = pipe


@pytest.fixture(scope="module")
def shared_text():
    """One tiny tokenizer and text encoder shared by every tiny pipeline."""
    return {"tokenizer": tiny_tokenizer(), "text_encoder": tiny_text_encoder()}


@pytest.fixture(scope="module")
def vace(shared_text):
    """A tiny VACE pipeline (text-to-video and continuing from a frame)."""
    return tiny_wan_pipeline("vace", **shared_text)


@pytest.fixture(scope="module")
def t2v_i2v(shared_text):
    """Tiny legacy text-to-video and image-to-video pipelines."""
    return tiny_wan_pipeline("t2v", **shared_text), tiny_wan_pipeline("i2v", **shared_text)


def frame(outdir: Path, index: int) -> np.ndarray:
    """One written frame."""
    return read_image(outdir / frame_filename(TS, index))


def test_vace_run_writes_every_frame_and_chains_from_the_last_one(vace, tmp_path):
    spy, roles = Recorder(vace), []
    result = render_wan(BASE, tmp_path, pipeline_loader=lambda role: roles.append(role) or spy.pipe, timestring=TS)
    out = result.outdir
    assert (result.frames_written, result.cancelled, result.video) == (12, False, None)
    assert [frame(out, i).shape for i in (0, 11)] == [(32, 32, 3)] * 2 and not (out / frame_filename(TS, 12)).exists()
    assert roles == ["t2v", "i2v"]
    first, second = spy.calls
    assert "video" not in first and (first["num_frames"], second["num_frames"]) == (5, 9)
    assert [np.array_equal(np.asarray(second["video"][i]), frame(out, 3 + i)) for i in (0, 1)] == [True, True]
    assert [np.asarray(m).max() for m in second["mask"][:2]] == [0, 0] and np.asarray(second["mask"][2]).min() == 255
    assert second["conditioning_scale"] == 1.0 and second["num_inference_steps"] == 2
    assert [call["seed"] for call in spy.calls] == [7, 8]
    assert first["prompt"].startswith("a cat. camera") and first["guidance_scale"] == 7.5
    assert '"seed": 7' in (out / f"{TS}_settings.txt").read_text(encoding="utf-8")
    srt = (out / f"{TS}.srt").read_text(encoding="utf-8")
    assert srt.count(" --> ") == 2 and "00:00:00,333 --> 00:00:00,800\nClip 2/2: frames 5-11, seed 8, i2v" in srt
    assert "clip 1: frames 5-11" in (out / f"{TS}_wan_plan.txt").read_text(encoding="utf-8")


def test_legacy_image_to_video_gets_the_previous_frame(t2v_i2v, tmp_path):
    t2v, i2v = Recorder(t2v_i2v[0]), Recorder(t2v_i2v[1])
    result = render_wan(BASE.replace(seed_behavior="fixed"), tmp_path,
                        pipeline_loader={"t2v": t2v.pipe, "i2v": i2v.pipe}.get, timestring=TS)
    assert result.frames_written == 12 and len(t2v.calls) == len(i2v.calls) == 1
    assert np.array_equal(np.asarray(i2v.calls[0]["image"]), frame(result.outdir, 4))
    assert "conditioning_scale" not in i2v.calls[0]
    assert [t2v.calls[0]["seed"], i2v.calls[0]["seed"]] == [7, 7]


def test_no_continuity_makes_independent_clips_with_their_own_seeds(t2v_i2v, tmp_path):
    t2v, roles = Recorder(t2v_i2v[0]), []
    settings = BASE.replace(wan_i2v_model="Use T2V Model (No Continuity)", seed_behavior="random")
    render_wan(settings, tmp_path, pipeline_loader=lambda role: roles.append(role) or t2v.pipe, timestring=TS)
    assert roles == ["t2v", "t2v"] and [c["num_frames"] for c in t2v.calls] == [5, 9]
    seeds = [call["seed"] for call in t2v.calls]
    assert seeds[0] == 7 and seeds[1] != 7
    assert seeds == [clip.seed for clip in plan_clips(settings, 7).clips]


def test_the_init_image_starts_the_first_clip(vace, tmp_path):
    init = np.zeros((20, 40, 3), np.uint8)
    init[:, :20] = 255
    write_png_atomic(tmp_path / "init.png", init)
    spy = Recorder(vace)
    render_wan(BASE.replace(use_init=True, init_image=str(tmp_path / "init.png")), tmp_path / "out",
               pipeline_loader=lambda role: spy.pipe, timestring=TS)
    sent = np.asarray(spy.calls[0]["video"][0])
    assert sent.shape == (32, 32, 3) and sent[:, :8].min() > 200 and sent[:, -8:].max() < 50


def test_cancel_between_clips_keeps_the_frames_and_makes_the_video(vace, tmp_path):
    tone = tmp_path / "tone.m4a"
    subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=2", "-c:a", "aac", str(tone)], check=True)
    cancel, seen = CancelToken(), []

    def progress(done: int, total: int) -> None:
        """Cancel after the first clip."""
        seen.append((done, total))
        cancel.cancel()

    settings = BASE.replace(skip_video_creation=False, add_soundtrack="File", soundtrack_path=str(tone))
    result = render_wan(settings, tmp_path, pipeline_loader=lambda role: vace, cancel=cancel, progress=progress,
                        timestring=TS)
    assert (result.frames_written, result.cancelled, seen) == (5, True, [(5, 12)])
    assert (result.outdir / frame_filename(TS, 4)).exists() and not (result.outdir / frame_filename(TS, 5)).exists()
    info = probe_media(str(result.video))
    assert info.has_audio and (info.width, info.height) == (32, 32)
    assert (result.outdir / f"{TS}.srt").read_text(encoding="utf-8").count(" --> ") == 1


def test_a_cancel_during_a_clip_discards_it(vace):
    plan = plan_clips(BASE, 7)
    cancel = CancelToken()
    cancel.cancel()
    assert generate_clip(vace, plan.clips[0], plan, cancel=cancel) is None


def test_the_same_seed_gives_the_same_frames(vace):
    plan = plan_clips(BASE, 7)
    first, again = (generate_clip(vace, plan.clips[0], plan) for _ in range(2))
    assert first.shape == (5, 32, 32, 3) and first.dtype == np.uint8 and np.array_equal(first, again)


def test_a_missing_model_fails_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEFORUM_MODELS_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(WanModelMissing, match="Wan2.1-VACE-1.3B-diffusers"):
        render_wan(BASE, tmp_path / "out", models_dir=tmp_path / "models", timestring=TS)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_weights_load_from_the_models_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    write_tiny_wan_model(tmp_path / "models" / "Deforum" / "wan" / "Wan2.1-VACE-1.3B-diffusers", "vace")
    result = render_wan(BASE, tmp_path / "out", models_dir=tmp_path / "models", timestring=TS)
    assert result.frames_written == 12 and (result.outdir / frame_filename(TS, 11)).exists()


@pytest.mark.slow
def test_a_legacy_pair_loads_once_and_shares_the_text_encoder(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    wan_dir = tmp_path / "models" / "wan"
    write_tiny_wan_model(wan_dir / "Wan2.1-T2V-1.3B-Diffusers", "t2v")
    write_tiny_wan_model(wan_dir / "Wan2.1-I2V-14B-480P-Diffusers", "i2v")
    settings = BASE.replace(wan_t2v_model="1.3B T2V (Legacy)", wan_i2v_model="14B I2V 480P (Legacy)")
    loader = default_loader(select_models(settings, {"t2v", "i2v"}, tmp_path / "models"), device="cpu")
    text, image = loader("t2v"), loader("i2v")
    assert type(text).__name__ == "WanPipeline" and type(image).__name__ == "WanImageToVideoPipeline"
    assert image.text_encoder is text.text_encoder and loader("t2v") is text
    result = render_wan(settings, tmp_path / "out", pipeline_loader=loader, timestring=TS)
    assert result.frames_written == 12


def test_an_interrupted_run_resumes_after_its_finished_clips(vace, tmp_path):
    settings = BASE.replace(seed=-1)
    cancel = CancelToken()
    part = render_wan(settings, tmp_path / "part", pipeline_loader=lambda role: vace, cancel=cancel,
                      progress=lambda done, total: cancel.cancel(), timestring=TS)
    assert (part.frames_written, part.cancelled) == (5, True)
    (part.outdir / frame_filename(TS, 5)).write_bytes(b"half-written clip frames are made again")
    seed = int(__import__("json").loads((part.outdir / f"{TS}_settings.txt").read_text())["seed"])
    spy, seen = Recorder(vace), []
    resumed = render_wan(settings, tmp_path / "part", pipeline_loader=lambda role: spy.pipe, resume=TS,
                         progress=lambda done, total: seen.append(done))
    assert (resumed.frames_written, resumed.cancelled, seen) == (7, False, [5, 12])
    assert [call["seed"] for call in spy.calls] == [seed + 1] and spy.calls[0]["num_frames"] == 9
    assert [np.array_equal(np.asarray(spy.calls[0]["video"][i]), frame(part.outdir, 3 + i)) for i in (0, 1)] \
        == [True, True]
    full = render_wan(settings.replace(seed=seed), tmp_path / "full", pipeline_loader=lambda role: vace,
                      timestring=TS)
    for i in range(12):
        assert np.array_equal(frame(resumed.outdir, i), frame(full.outdir, i)), i
    assert (resumed.outdir / f"{TS}.srt").read_text(encoding="utf-8").count(" --> ") == 2


def test_resuming_a_missing_run_names_the_folder(tmp_path):
    with pytest.raises(ValueError, match="Cannot resume 20250101000000"):
        render_wan(BASE, tmp_path, pipeline_loader=lambda role: None, resume=TS)
