"""The WebUI render entry against the stub WebUI: frames, video, options put back, interrupt, preview, depth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deforum.core.services import CancelToken
from deforum.integrations.webui import render
from deforum.models.settings import Settings
from tests.webui_stub.fixture import webui_host  # noqa: F401  (the `webui` fixture)


def small(**changes) -> Settings:
    """Three 64×64 2D frames, no cadence."""
    values = {"W": 64, "H": 64, "max_frames": 3, "animation_mode": "2D", "diffusion_cadence": 1, "seed": 5}
    return Settings().replace(**{**values, **changes})


def frames(outdir: Path) -> list[str]:
    return sorted(p.name for p in outdir.glob("*_[0-9]*.png"))


def test_render_writes_frames_video_and_settings_in_the_img2img_folder(webui) -> None:
    result = render.render_settings(small())
    assert result.outdir.parent == webui.root / "outputs" / "img2img-images"
    assert len(frames(result.outdir)) == 3 and result.video is not None and result.video.is_file()
    assert (result.outdir / f"{result.timestring}_settings.txt").is_file()
    kinds = [type(p).__name__ for p in webui.processing.CALLS]
    assert kinds == ["StableDiffusionProcessingTxt2Img", *["StableDiffusionProcessingImg2Img"] * 2]
    assert webui.processing.CALLS[0].scheduler == "Automatic"
    assert webui.shared.state.job_count == 3


def test_outdir_samples_option_wins_over_the_img2img_folder(webui) -> None:
    webui.shared.opts.data["outdir_samples"] = str(webui.root / "all")
    assert render.render_settings(small()).outdir.parent == webui.root / "all"


def test_options_are_changed_during_the_run_and_put_back_after(webui) -> None:
    data = webui.shared.opts.data
    settings = small(enable_clipskip_scheduling=True, clipskip_schedule="0:(3)")
    render.render_settings(settings, overrides={"eta_ddim": 0.5, "sd_vae": "x.pt"})
    seen = webui.processing.CALLS[-1].opts_at_process
    assert (seen["CLIP_stop_at_last_layers"], seen["img2img_fix_steps"], seen["eta_ddim"], seen["sd_vae"]) == (
        3, False, 0.5, "x.pt")
    assert (data["CLIP_stop_at_last_layers"], data["img2img_fix_steps"], data["eta_ddim"]) == (1, True, 0.0)
    assert "sd_vae" not in data


def test_interrupt_keeps_the_frames_and_still_makes_the_video(webui) -> None:
    webui.processing.HOOKS.append(
        lambda p: webui.shared.state.interrupt() if len(webui.processing.CALLS) == 2 else None)
    result = render.render_settings(small())
    webui.processing.HOOKS.clear()
    assert result.cancelled and result.frames_written == 1 and len(frames(result.outdir)) == 1
    assert result.video is not None and result.video.is_file()


def test_cancel_token_interrupts_the_webui(webui) -> None:
    cancel = CancelToken()

    def stop_when_cancelled(p) -> None:
        cancel.cancel()
        for _ in range(50):
            if webui.shared.state.interrupted:
                return
            import time
            time.sleep(0.02)

    webui.processing.HOOKS.append(stop_when_cancelled)
    result = render.render_settings(small(), cancel=cancel)
    webui.processing.HOOKS.clear()
    assert result.cancelled and webui.shared.state.interrupted and len(webui.processing.CALLS) == 1


def test_motion_preview_needs_no_model(webui) -> None:
    result = render.render_settings(small(motion_preview_mode=True))
    assert webui.processing.CALLS == [] and len(frames(result.outdir)) == 3


@pytest.mark.parametrize(("choice", "frames_in_preview"), [
    ("On", 4), ("On, concurrent (don't pause generation)", 4), ("Off", None)])
def test_preview_video_option_writes_the_frames_so_far_every_n_frames(webui, choice: str,
                                                                      frames_in_preview: int | None) -> None:
    from deforum.media.video import count_video_frames

    webui.shared.opts.data.update(deforum_preview=choice, deforum_preview_interval_frames=2)
    result = render.render_settings(small(max_frames=6))
    preview = result.outdir / f"{result.timestring}_preview.mp4"
    assert (count_video_frames(str(preview)) if preview.exists() else None) == frames_in_preview
    assert count_video_frames(str(result.video)) == 6


def test_resume_continues_the_run_with_its_timestring(webui) -> None:
    webui.processing.HOOKS.append(
        lambda p: webui.shared.state.interrupt() if len(webui.processing.CALLS) == 2 else None)
    first = render.render_settings(small())
    webui.processing.HOOKS.clear()
    webui.shared.state.reset()
    resumed = render.render_settings(small(resume_from_timestring=True, resume_timestring=first.timestring))
    assert resumed.outdir == first.outdir and not resumed.cancelled and len(frames(first.outdir)) == 3


class FlatDepth:
    larger_is_nearer = True

    def predict(self, image: np.ndarray) -> np.ndarray:
        return np.ones(image.shape[:2], np.float32)


def test_depth_model_comes_from_the_webui_models_folder_and_is_released(webui, monkeypatch) -> None:
    from deforum.depth import DEPTH_MODEL_CACHE

    calls, ended = [], []
    monkeypatch.setattr(DEPTH_MODEL_CACHE, "estimator", lambda algorithm, **kw: calls.append((algorithm, kw))
                        or FlatDepth())
    monkeypatch.setattr(DEPTH_MODEL_CACHE, "end_run", lambda: ended.append(True))
    webui.shared.cmd_opts.medvram = True
    webui.shared.opts.data["deforum_keep_3d_models_in_vram"] = True
    render.render_settings(small(animation_mode="3D", use_depth_warping=True))
    algorithm, kwargs = calls[0]
    assert algorithm == "Midas-3-Hybrid" and kwargs["models_dir"] == str(Path(webui.paths.models_path))
    assert (kwargs["device"], kwargs["keep_in_vram"], kwargs["half"]) == ("cpu", True, False)
    assert ended == [True]


def test_missing_depth_weights_are_a_clear_error(webui) -> None:
    with pytest.raises(ValueError, match="Depth|depth"):
        render.render_settings(small(animation_mode="3D", use_depth_warping=True))


def test_persistent_settings_are_saved_after_a_ui_run(webui) -> None:
    path = webui.root / "keep.txt"
    webui.shared.opts.data.update(deforum_enable_persistent_settings=True, deforum_persistent_settings_path=str(path))
    render.render_for_ui(small(seed=123))
    assert '"seed": 123' in path.read_text(encoding="utf-8")
    assert '"sd_model_name": "tiny-sd15.safetensors"' in path.read_text(encoding="utf-8")


def test_frames_to_video_tool_stitches_a_pattern_into_the_folders_video(webui) -> None:
    from deforum.integrations.webui import tools

    result = render.render_settings(small(skip_video_creation=True))
    assert result.video is None and len(tools.recent_frames(result, 2)) == 2
    video = tools.frames_to_video(f'"{result.outdir}/{result.timestring}_%09d.png"', 10)
    assert Path(video) == result.outdir / f"{result.outdir.name}.mp4" and Path(video).is_file()
    assert Path(tools.frames_to_video(f"{result.outdir}/{result.timestring}_%09d.png", 10)).name.endswith("_1.mp4")


def test_vid2depth_tool_names_what_is_missing(webui) -> None:
    from deforum.integrations.webui import tools

    with pytest.raises(FileNotFoundError, match="does not exist"):
        tools.vid2depth([str(webui.root / "nope.mp4")], tools.DEFAULT_DEPTH, True)


def _human_masks(**changes) -> Settings:
    return small(hybrid_composite="Normal", hybrid_generate_human_masks="PNGs", **changes)


def test_human_masks_need_the_matting_weights_named(webui) -> None:
    with pytest.raises(ValueError, match=r"(?s)hybrid_generate_human_masks.*rvm_resnet50\.pth"):
        render.render_settings(_human_masks())


def test_human_matting_loads_from_the_webui_models_folder(webui, monkeypatch) -> None:
    import deforum.integrations.features.matting as matting

    calls = []
    monkeypatch.setattr(matting, "load_human_matting", lambda models_dir, device: calls.append((models_dir, device))
                        or "rvm")
    from deforum.integrations.services import human_matting

    assert human_matting(_human_masks(), render.environment()) == "rvm"
    assert human_matting(small(), render.environment()) is None
    assert calls == [(str(Path(webui.paths.models_path)), "cpu")]


def test_the_offline_option_turns_downloads_off_and_progress_shows_in_the_job_state(webui, monkeypatch) -> None:
    from deforum.config import fetch
    from deforum.integrations.webui.options import apply_download_options, download_progress

    monkeypatch.setenv("DEFORUM_OFFLINE", "0")
    webui.shared.opts.data.update(deforum_offline=True, deforum_allow_large_downloads=True)
    apply_download_options()
    assert not fetch.downloads_enabled() and fetch.large_downloads_allowed()
    webui.shared.opts.data.update(deforum_offline=False, deforum_allow_large_downloads=False)
    apply_download_options()
    assert fetch.downloads_enabled() and not fetch.large_downloads_allowed()
    download_progress("RIFE v4.6")(5_000_000, 21_000_000)
    assert webui.shared.state.textinfo == "Downloading RIFE v4.6: 5 / 21 MB"
