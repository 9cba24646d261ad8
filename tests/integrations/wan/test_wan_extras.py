"""Wan's remaining fork pieces on tiny random models: first-last frame, overlap, seam cross-fade, attention mode,
answer language, and RIFE/FILM after a Wan run."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deforum.config.settings_io import load
from deforum.integrations.post.postprocess import run_postprocess
from deforum.integrations.wan import plan_clips, render_wan
from deforum.integrations.wan.enhance import INSTRUCTION, INSTRUCTION_ZH, answer_language, chat_messages
from deforum.integrations.wan.pipelines import keep_ends, to_uint8
from deforum.integrations.wan.seams import apply_attention_mode, attention_backend, seam_weights, smooth_seam
from deforum.integrations.wan.testing import tiny_text_encoder, tiny_tokenizer, tiny_wan_pipeline
from deforum.media.frames_io import existing_frames, frame_filename, read_image, write_png_atomic
from deforum.media.video import count_video_frames
from tests.conftest import ROOT
from tests.integrations.post.test_postprocess_support import models, save_film  # noqa: F401

pytest.importorskip("ftfy", reason="diffusers' Wan VACE and image-to-video pipelines need ftfy")
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
TS = "20250101000000"
BASE = load(ROOT / "default_settings.txt").replace(
    animation_mode="Wan Video", max_frames=12, prompts={"0": "a cat", "5": "a dog"}, animation_prompts_positive="",
    animation_prompts_negative="", wan_resolution="32x32", wan_inference_steps=2, seed=7, seed_behavior="iter",
    add_soundtrack="None", skip_video_creation=True, batch_name="wan", wan_enable_interpolation=False)


class Spy:
    """Wraps a pipeline: records each call's keyword arguments and the frames it returned (class name kept)."""

    def __init__(self, pipe) -> None:
        self.calls: list[dict] = []
        self.outputs: list[np.ndarray] = []
        spy, base = self, type(pipe)

        def record(this, **kwargs):
            """Record the call and its result."""
            result = base.__call__(this, **kwargs)
            spy.calls.append(kwargs)
            spy.outputs.append(to_uint8(result.frames[0]))
            return result

        pipe.__class__ = type(base.__name__, (base,), {"__call__": record})
        self.pipe = pipe


@pytest.fixture(scope="module")
def text():
    return {"tokenizer": tiny_tokenizer(), "text_encoder": tiny_text_encoder()}


def pattern(size: int, value: int) -> np.ndarray:
    image = np.full((size, size, 3), value, np.uint8)
    image[: size // 2, : size // 2] = 255 - value
    return image


def written(outdir: Path, index: int) -> np.ndarray:
    return read_image(outdir / frame_filename(TS, index))


def keyframe_settings(tmp_path: Path, **changes: object):
    """Init image at frame 0, guided keyframe images at frame 5 (the next prompt keyframe) and 11 (the last)."""
    images = {"0": pattern(32, 30), "5": pattern(32, 220), "11": pattern(32, 120)}
    for key, image in images.items():
        write_png_atomic(tmp_path / f"key{key}.png", image)
    guided = json.dumps({key: str(tmp_path / f"key{key}.png") for key in images})
    return BASE.replace(**{"use_init": True, "init_image": str(tmp_path / "key0.png"), "use_looper": True,
                           "init_images": guided, **changes})


def test_flf2v_clip_gets_the_keyframe_image_as_last_image_and_ends_on_it(text, tmp_path: Path) -> None:
    settings = keyframe_settings(tmp_path, wan_i2v_model="14B FLF2V 720P")
    plan = plan_clips(settings, 7)
    assert [c.last_image for c in plan.clips] == [str(tmp_path / "key5.png"), str(tmp_path / "key11.png")]
    spy = Spy(tiny_wan_pipeline("flf2v", **text))
    result = render_wan(settings, tmp_path / "out", pipeline_loader=lambda role: spy.pipe, timestring=TS)
    first, second = spy.calls
    assert np.array_equal(np.asarray(first["last_image"]), pattern(32, 220))
    assert np.array_equal(np.asarray(first["image"]), pattern(32, 30))
    assert np.array_equal(np.asarray(second["last_image"]), pattern(32, 120))
    assert np.array_equal(np.asarray(second["image"]), written(result.outdir, 4))
    assert np.array_equal(written(result.outdir, 4), spy.outputs[0][-1])
    assert np.array_equal(written(result.outdir, 0), spy.outputs[0][0])
    assert np.array_equal(written(result.outdir, 11), spy.outputs[1][-1])
    assert second["num_frames"] == 9 and len(spy.outputs[1]) == 9
    assert existing_frames(result.outdir, TS) == list(range(12))


def test_the_flf2v_choice_names_the_frame_that_lacks_a_keyframe_image(tmp_path: Path) -> None:
    from deforum.integrations.wan.models import WanModelError

    settings = keyframe_settings(tmp_path, wan_i2v_model="14B FLF2V 720P", init_images=json.dumps(
        {"0": str(tmp_path / "key0.png"), "5": str(tmp_path / "key5.png")}))
    with pytest.raises(WanModelError, match="at frame 11 or 12"):
        render_wan(settings, tmp_path / "out", pipeline_loader=lambda role: None, timestring=TS)
    assert not (tmp_path / "out").exists()


def test_vace_first_last_frame_keeps_the_keyframe_image_in_the_mask(text, tmp_path: Path) -> None:
    spy = Spy(tiny_wan_pipeline("vace", **text))
    render_wan(keyframe_settings(tmp_path), tmp_path / "out", pipeline_loader=lambda role: spy.pipe, timestring=TS)
    video, mask = spy.calls[0]["video"], spy.calls[0]["mask"]
    assert len(video) == len(mask) == spy.calls[0]["num_frames"] == 5
    assert np.array_equal(np.asarray(video[-1]), pattern(32, 220)) and np.asarray(mask[-1]).max() == 0
    assert np.asarray(mask[0]).max() == 0 and [np.asarray(m).min() for m in mask[1:-1]] == [255] * 3


def test_overlap_frames_condition_the_next_clip_and_the_seam_is_cross_faded(text, tmp_path: Path) -> None:
    spy = Spy(tiny_wan_pipeline("vace", **text))
    settings = BASE.replace(wan_frame_overlap=3, skip_video_creation=False, wan_enable_interpolation=True,
                            wan_interpolation_strength=0.6)
    result = render_wan(settings, tmp_path / "out", pipeline_loader=lambda role: spy.pipe, timestring=TS)
    second = spy.calls[1]
    assert second["num_frames"] == 13
    for i in range(3):
        assert np.array_equal(np.asarray(second["video"][i]), written(result.outdir, 2 + i))
    assert [np.asarray(m).max() for m in second["mask"][:3]] == [0] * 3
    assert np.asarray(second["mask"][3]).min() == 255
    made, previous_last = spy.outputs[1][3:], written(result.outdir, 4)
    for j, weight in enumerate((0.45, 0.3, 0.15, 0.0, 0.0, 0.0, 0.0)):
        mixed = np.clip(np.rint(made[j] * (1 - weight) + previous_last * weight), 0, 255).astype(np.uint8)
        assert np.array_equal(written(result.outdir, 5 + j), mixed), j
    assert existing_frames(result.outdir, TS) == list(range(12)) and result.frames_written == 12
    assert count_video_frames(str(result.video)) == 12


def test_i2v_chains_from_one_frame_whatever_the_overlap(text, tmp_path: Path) -> None:
    t2v, i2v = Spy(tiny_wan_pipeline("t2v", **text)), Spy(tiny_wan_pipeline("i2v", **text))
    settings = BASE.replace(wan_frame_overlap=3, wan_t2v_model="1.3B T2V (Legacy)",
                            wan_i2v_model="14B I2V 480P (Legacy)")
    result = render_wan(settings, tmp_path / "out", pipeline_loader=lambda role: (t2v if role == "t2v" else i2v).pipe,
                        timestring=TS)
    assert np.array_equal(np.asarray(i2v.calls[0]["image"]), written(result.outdir, 4))
    for i in range(7):
        assert np.array_equal(written(result.outdir, 5 + i), i2v.outputs[0][1 + i])


@given(count=st.integers(1, 10), strength=st.floats(0, 1))
def test_seam_weights_fade_out_and_stay_below_the_strength(count: int, strength: float) -> None:
    weights = seam_weights(count, strength)
    assert len(weights) == count and np.all(np.diff(weights) <= 0) and np.all(weights <= strength)
    frames = np.zeros((count + 2, 4, 4, 3), np.uint8)
    faded = smooth_seam(np.full((4, 4, 3), 200, np.uint8), frames, count, strength)
    assert np.array_equal(faded[count:], frames[count:])


def test_keep_ends_spreads_frames_and_keeps_the_last() -> None:
    frames = np.arange(9)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    kept = keep_ends(frames, 5)
    assert kept[:, 0, 0, 0].tolist() == [0, 2, 4, 6, 8]


def test_flash_attention_mode_maps_to_a_diffusers_backend(text, caplog: pytest.LogCaptureFixture) -> None:
    assert attention_backend("Auto (Recommended)", "cuda", flash_installed=True) is None
    assert attention_backend("Force PyTorch Fallback", "cpu", flash_installed=False) == "native"
    assert attention_backend("Force Flash Attention", "cuda", flash_installed=True) == "flash"
    assert attention_backend("Force Flash Attention", "cuda", flash_installed=False) == "_native_flash"
    assert attention_backend("Force Flash Attention", "cpu", flash_installed=True) is None
    assert "needs a CUDA GPU" in caplog.text
    assert attention_backend("Turbo", "cuda", flash_installed=True) is None and "'Turbo' is not one of" in caplog.text
    pipe = tiny_wan_pipeline("t2v", **text)
    assert apply_attention_mode(pipe, "Force PyTorch Fallback", "cpu") == "native"
    frames = pipe(prompt="a cat", num_frames=5, height=32, width=32, num_inference_steps=1, output_type="np").frames
    assert np.asarray(frames).shape == (1, 5, 32, 32, 3)


def test_qwen_answers_in_the_chosen_language() -> None:
    assert chat_messages("a cat", "Chinese")[0]["content"] == INSTRUCTION_ZH
    assert chat_messages("a cat", "English")[0]["content"] == INSTRUCTION
    assert answer_language("zh") == "Chinese" and answer_language("English") == "English"
    with pytest.raises(ValueError, match="Setting 'wan_qwen_language': 'Klingon'"):
        answer_language("Klingon")


def test_film_interpolation_runs_after_a_wan_run(text, tmp_path: Path, models: Path) -> None:  # noqa: F811
    save_film(models / "Deforum" / "film_interpolation" / "film_net_fp16.pt")
    vace = tiny_wan_pipeline("vace", **text)
    settings = BASE.replace(skip_video_creation=False, frame_interpolation_engine="FILM",
                            frame_interpolation_x_amount=2)
    result = render_wan(settings, tmp_path / "out", pipeline_loader=lambda role: vace, timestring=TS,
                        postprocess=functools.partial(run_postprocess, models_dir=str(models)))
    assert result.extra_videos == (result.outdir / f"{TS}_FILM_x2.mp4",)
    assert count_video_frames(str(result.extra_videos[0])) == 23


def test_render_plan_option_prints_the_wan_clips(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from deforum.cli import main

    path = tmp_path / "wan.txt"
    path.write_text(json.dumps(BASE.to_flat()))
    assert main(["render", str(path), "--plan", "--set", "wan_frame_overlap=3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Wan plan: 2 clip(s), 12 frames") and "i2v from previous (3 overlap)" in out
