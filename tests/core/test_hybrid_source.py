"""HybridVideo on a synthetic video whose content moves a known amount per frame."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from deforum.animation.keys import build_keys
from deforum.core.hybrid_source import HybridSchedules, HybridVideo, extract_hybrid_frames
from deforum.core.sink import depth_to_png
from deforum.media import frames_io, video
from deforum.models.settings import Settings

W, H, FRAMES = 128, 96, 6
SHIFT = (4, 2)
TS = "20240101000000"
NEUTRAL = HybridSchedules(alpha=1.0, mask_blend_alpha=0.5, mask_contrast=1.0, cutoff_low=0, cutoff_high=100,
                          flow_factor=1.0)


@pytest.fixture(scope="module")
def texture() -> np.ndarray:
    """A smooth random colour texture larger than the frames."""
    noise = (np.random.default_rng(3).random((H + 48, W + 48, 3)) * 255).astype(np.uint8)
    return cv2.normalize(cv2.GaussianBlur(noise, (0, 0), 2.0), None, 0, 255, cv2.NORM_MINMAX)


def view(texture: np.ndarray, step: float) -> np.ndarray:
    """Frame `step`: the texture's content moved right by SHIFT[0] and down by SHIFT[1] per step."""
    x0, y0 = int(40 - step * SHIFT[0]), int(40 - step * SHIFT[1])
    return np.ascontiguousarray(texture[y0:y0 + H, x0:x0 + W])


@pytest.fixture(scope="module")
def clip(texture, tmp_path_factory) -> Path:
    """A lossless (crf 0) H.264 video of FRAMES moving frames."""
    folder = tmp_path_factory.mktemp("clip")
    for i in range(FRAMES):
        frames_io.write_png_atomic(folder / frames_io.frame_filename(TS, i), view(texture, i))
    path = folder / "moving.mp4"
    video.stitch_video(str(folder / f"{TS}_%09d.png"), str(path), 10, crf=0, preset="ultrafast")
    return path


@pytest.fixture(scope="module")
def extracted(clip, tmp_path_factory) -> tuple[Path, tuple[Path, ...]]:
    """The clip extracted once into an output folder's inputframes/."""
    outdir = tmp_path_factory.mktemp("run")
    frames = extract_hybrid_frames(settings(clip, hybrid_generate_inputframes=True), outdir)
    return outdir, frames


def settings(clip: Path, **changes) -> Settings:
    """2D settings at the clip's size with hybrid video."""
    base = {"animation_mode": "2D", "W": W, "H": H, "video_init_path": str(clip), "hybrid_composite": "Normal",
            "hybrid_motion": "None", "hybrid_flow_method": "DIS Medium", "max_frames": 50}
    return Settings().replace(**{**base, **changes})


def hybrid(extracted, clip, timestring: str = TS, depth=None, matting=None, **changes) -> HybridVideo:
    """A HybridVideo over the extracted frames."""
    outdir, frames = extracted
    return HybridVideo.prepare(settings(clip, **changes), outdir, timestring, frames=frames, depth=depth,
                               matting=matting)


class GradientDepth:
    """A depth estimator stand-in: depth grows left to right."""

    larger_is_nearer = True

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def predict(self, image: np.ndarray) -> np.ndarray:
        """A horizontal ramp of the image's size."""
        self.seen.append(image)
        return np.tile(np.linspace(0, 1, image.shape[1], dtype=np.float32), (image.shape[0], 1))


def test_prepare_extracts_the_video_like_hybrid_generation(clip, tmp_path):
    hv = HybridVideo.prepare(settings(clip, hybrid_generate_inputframes=True), tmp_path, TS)
    names = sorted(p.name for p in (tmp_path / "inputframes").iterdir())
    assert names == [f"moving{i:09}.jpg" for i in range(FRAMES)] and len(hv.frames) == FRAMES
    assert (tmp_path / "hybridframes").is_dir()


def test_frames_are_extracted_even_when_generate_inputframes_is_off_and_none_exist(clip, tmp_path):
    hv = HybridVideo.prepare(settings(clip), tmp_path, TS)
    assert len(hv.frames) == FRAMES


def test_existing_frames_are_reused_when_generate_inputframes_is_off(clip, tmp_path):
    folder = tmp_path / "inputframes"
    folder.mkdir()
    for name in ("b000000001.jpg", "b000000000.jpg"):
        frames_io.write_png_atomic(folder / "tmp.png", np.zeros((H, W, 3), np.uint8))
        (folder / "tmp.png").rename(folder / name)
    hv = HybridVideo.prepare(settings(clip), tmp_path, TS)
    assert [p.name for p in hv.frames] == ["b000000000.jpg", "b000000001.jpg"]


def test_overwrite_clears_old_extra_frames(clip, tmp_path):
    (tmp_path / "hybridframes").mkdir()
    (tmp_path / "hybridframes" / "old_prev000000001.jpg").write_bytes(b"x")
    HybridVideo.prepare(settings(clip, hybrid_generate_inputframes=True, overwrite_extracted_frames=True),
                        tmp_path, TS)
    assert list((tmp_path / "hybridframes").iterdir()) == []


def test_adjust_sets_frame_count_first_frame_init_and_depth_maps(extracted, clip):
    hv = hybrid(extracted, clip, depth=GradientDepth(), hybrid_comp_mask_type="Depth")
    adjusted = hv.adjust(hv.settings)
    assert adjusted.anim.max_frames == FRAMES and adjusted.args.use_init
    assert adjusted.args.init_image == str(extracted[1][0]) and adjusted.anim.save_depth_maps
    init = extracted[0] / "x.png"
    Image.new("RGB", (W, H), (9, 9, 9)).save(init)
    kept = hybrid(extracted, clip, hybrid_use_init_image=True, hybrid_use_first_frame_as_init_image=False,
                  init_image=str(init))
    assert kept.adjust(kept.settings).anim.max_frames == 50 and kept.adjust(kept.settings).args.init_image == str(init)
    assert (kept.video_image(3) == 9).all()


def test_a_missing_composite_init_image_is_an_error_before_rendering(extracted, clip):
    from deforum.media.frames_io import ImageSourceError

    with pytest.raises(ImageSourceError, match="init_image"):
        hybrid(extracted, clip, hybrid_use_init_image=True, hybrid_use_first_frame_as_init_image=False,
               init_image=str(extracted[0] / "missing.png"))


def test_frame_is_the_lanczos_resized_video_frame(extracted, clip, texture):
    frame = hybrid(extracted, clip).frame(2)
    assert frame.shape == (H, W, 3) and np.abs(frame.astype(int) - view(texture, 2)).mean() < 4


def test_affine_motion_matrix_recovers_the_video_shift(extracted, clip):
    hv = hybrid(extracted, clip, hybrid_motion="Affine")
    matrix = hv.motion_matrix(3)
    assert matrix[:, :2] == pytest.approx(np.eye(2), abs=0.02) and matrix[:, 2] == pytest.approx(SHIFT, abs=0.3)


def test_perspective_from_the_previous_image(extracted, clip, texture):
    hv = hybrid(extracted, clip, hybrid_motion="Perspective", hybrid_motion_use_prev_img=True)
    matrix = hv.motion_matrix(3, prev_image=view(texture, 2.5))
    assert matrix[:2, 2] / matrix[2, 2] == pytest.approx((SHIFT[0] / 2, SHIFT[1] / 2), abs=0.3)
    with pytest.raises(ValueError, match="previous image"):
        hv.motion_matrix(3)


def test_flow_recovers_the_shift_and_saves_extra_frames(extracted, clip):
    hv = hybrid(extracted, clip, hybrid_motion="Optical Flow", hybrid_flow_consistency=True,
                hybrid_consistency_blur=2, hybrid_comp_save_extra_frames=True)
    flow, _ = hv.flow(3)
    assert np.median(flow[16:-16, 16:-16].reshape(-1, 2), axis=0) == pytest.approx(SHIFT, abs=0.2)
    saved = {p.name for p in (extracted[0] / "hybridframes").iterdir()}
    assert {"flow000000002.jpg", "flow_mask000000002.jpg"} <= saved


@pytest.mark.parametrize("method, warm", [("DIS Medium", True), ("DIS Fine", True), ("Farneback", False)])
def test_dis_flow_starts_from_the_previous_hybrid_flow(extracted, clip, monkeypatch, method, warm):
    from deforum.core import hybrid_source

    seen = []

    def recording(*args, **kwargs):
        seen.append(kwargs["initial"])
        return real(*args, **kwargs)

    real = hybrid_source.hybrid_flow
    monkeypatch.setattr(hybrid_source, "hybrid_flow", recording)
    hv = hybrid(extracted, clip, hybrid_motion="Optical Flow", hybrid_flow_method=method,
                hybrid_flow_consistency=True)
    first, carried = hv.flow(2)
    _, carried_on = hv.flow(3, warm=carried)
    assert seen[0] is None
    assert (seen[1] is first) == warm and (carried is not None) == warm and (carried_on is not None) == warm


def test_apply_motion_moves_every_image_once_and_skips_frame_zero(extracted, clip, texture):
    hv = hybrid(extracted, clip, hybrid_motion="Affine")
    image = view(texture, 2)
    (moved, missing), _ = hv.apply_motion(3, [image, None], 1.0)
    assert missing is None
    assert np.abs(moved[12:-12, 12:-12].astype(int) - view(texture, 3)[12:-12, 12:-12]).mean() < 4
    assert hv.apply_motion(0, [image], 1.0)[0][0] is image


def test_flow_motion_uses_the_flow_factor(extracted, clip, texture):
    hv = hybrid(extracted, clip, hybrid_motion="Optical Flow")
    (half,), _ = hv.apply_motion(3, [view(texture, 2)], 0.5)
    assert np.abs(half[12:-12, 12:-12].astype(int) - view(texture, 2.5)[12:-12, 12:-12]).mean() < 6


def test_motion_past_the_video_is_none_with_one_warning_before_rendering(extracted, clip, caplog):
    with caplog.at_level(logging.WARNING):
        hv = hybrid(extracted, clip, hybrid_motion="Affine", hybrid_use_init_image=True, max_frames=FRAMES + 2)
        assert (hv.motion_matrix(FRAMES) == np.eye(2, 3)).all()
        assert hv.motion_matrix(FRAMES + 1).shape == (2, 3)
    assert sum("past the" in r.message for r in caplog.records) == 1
    flow, warm = hybrid(extracted, clip, hybrid_motion="Optical Flow").flow(FRAMES)
    assert flow.shape == (H, W, 2) and not flow.any() and warm is None


def test_composite_blends_toward_the_video_frame_and_saves_extras(extracted, clip):
    hv = hybrid(extracted, clip, hybrid_comp_save_extra_frames=True)
    image = np.zeros((H, W, 3), np.uint8)
    assert (hv.composite(4, image, NEUTRAL) == hv.frame(4)).all()
    halfway = hv.composite(4, image, HybridSchedules(0.5, 0.5, 1.0, 0, 100, 1.0))
    assert np.abs(halfway.astype(int) - hv.frame(4) // 2).max() <= 1
    assert (extracted[0] / "hybridframes" / "moving_prev000000004.jpg").is_file()


def test_composite_with_use_init_image_uses_the_init_image(extracted, clip, tmp_path):
    init = np.full((H, W, 3), 77, np.uint8)
    frames_io.write_png_atomic(tmp_path / "init.png", init)
    hv = hybrid(extracted, clip, hybrid_use_init_image=True, init_image=str(tmp_path / "init.png"),
                hybrid_use_first_frame_as_init_image=False)
    assert (hv.composite(2, np.zeros((H, W, 3), np.uint8), NEUTRAL) == 77).all()
    first = hybrid(extracted, clip, hybrid_use_init_image=True, init_image=str(tmp_path / "init.png"))
    assert (first.composite(2, np.zeros((H, W, 3), np.uint8), NEUTRAL) == first.frame(0)).all()


def test_depth_mask_reads_the_previous_frames_saved_depth_map(extracted, clip):
    hv = hybrid(extracted, clip, timestring="depthrun", depth=GradientDepth(), hybrid_comp_mask_type="Depth",
                hybrid_comp_save_extra_frames=True)
    with pytest.raises(ValueError, match="depth map"):
        hv.composite(3, np.zeros((H, W, 3), np.uint8), NEUTRAL)
    ramp = np.zeros((H, W), np.float32)
    ramp[:, W // 2:] = 1
    frames_io.write_png_atomic(extracted[0] / frames_io.depth_filename("depthrun", 2), depth_to_png(ramp))
    white = np.full((H, W, 3), 255, np.uint8)
    out = hv.composite(3, white, NEUTRAL)
    assert (out[:, W // 2:] == 255).all() and (out[:, : W // 2] == hv.frame(3)[:, : W // 2]).all()
    assert (extracted[0] / "hybridframes" / "moving_comp000000003.jpg").is_file()


def test_video_depth_mask_predicts_depth_of_the_video_frame(extracted, clip):
    depth = GradientDepth()
    hv = hybrid(extracted, clip, depth=depth, hybrid_comp_mask_type="Video Depth")
    out = hv.composite(2, np.full((H, W, 3), 255, np.uint8), NEUTRAL)
    assert (depth.seen[0] == hv.frame(2)).all()
    assert (extracted[0] / "hybridframes" / "moving_vid_depth000000002.jpg").is_file()
    assert (out[:, -4:] >= 250).all() and np.abs(out[:, :2].astype(int) - hv.frame(2)[:, :2]).max() <= 6


def test_depth_masks_need_a_depth_model(extracted, clip):
    with pytest.raises(ValueError, match="depth model"):
        hybrid(extracted, clip, hybrid_comp_mask_type="Video Depth")


def test_raft_hybrid_flow_needs_the_model(extracted, clip):
    with pytest.raises(ValueError, match="hybrid_flow_method"):
        hybrid(extracted, clip, hybrid_motion="Optical Flow", hybrid_flow_method="RAFT")


def test_color_sample_every_n_frames(extracted, clip):
    hv = hybrid(extracted, clip, color_coherence="Video Input", color_coherence_video_every_N_frames=2)
    samples = [hv.color_sample(i) for i in range(FRAMES + 2)]
    assert [s is not None for s in samples] == [True, False, True, False, True, False, False, False]
    assert (samples[2] == hv.frame(2)).all()
    assert hybrid(extracted, clip, color_coherence="LAB").color_sample(0) is None


def test_schedules_are_read_per_frame(clip):
    flat = settings(clip, hybrid_comp_alpha_schedule="0:(0.2), 4:(0.6)",
                    hybrid_comp_mask_auto_contrast_cutoff_low_schedule="0:(12.9)").to_flat()
    keys = build_keys(flat, 8, 1)
    at = HybridSchedules.at(keys, 2)
    assert at.alpha == pytest.approx(0.4) and at.cutoff_low == 12 and at.cutoff_high == 100
    assert at.flow_factor == 1.0 and at.mask_contrast == 1.0 and at.mask_blend_alpha == 0.5


class BrightnessMatting:
    """A matting stand-in: alpha is the frame's red channel."""

    def alphas(self, frames):
        for frame in frames:
            yield np.ascontiguousarray(frame[..., 0])


def test_human_masks_without_the_model_name_it(extracted, clip):
    with pytest.raises(ValueError, match="hybrid_generate_human_masks.*rvm_resnet50.pth"):
        hybrid(extracted, clip, hybrid_generate_human_masks="PNGs")


def test_a_preview_without_the_model_makes_no_human_masks(extracted, clip, caplog):
    with caplog.at_level(logging.WARNING):
        hybrid(extracted, clip, hybrid_generate_human_masks="PNGs", motion_preview_mode=True)
    assert "no human masks" in caplog.text


def test_human_masks_of_every_input_frame(extracted, clip):
    outdir, frames = extracted
    hybrid(extracted, clip, hybrid_generate_human_masks="PNGs", overwrite_extracted_frames=True,
           matting=BrightnessMatting())
    masks = sorted((outdir / "human_masks").glob("*.png"))
    assert [p.name for p in masks] == [f"{i:04d}.png" for i in range(FRAMES)]
    assert np.array_equal(np.asarray(Image.open(masks[2])), frames_io.read_image(frames[2])[..., 0])


def test_interpolation_mode_is_refused(extracted, clip):
    with pytest.raises(ValueError, match="animation_mode"):
        hybrid(extracted, clip, animation_mode="Interpolation")


def test_missing_video_names_the_setting(tmp_path):
    with pytest.raises(ValueError, match="video_init_path"):
        HybridVideo.prepare(settings(tmp_path / "nope.mp4"), tmp_path, TS)


def _keys(hv: HybridVideo, frames: int = 8):
    """The schedules of a HybridVideo's settings."""
    return build_keys(hv.settings.to_flat(), frames, 1)


@pytest.mark.parametrize(("mode", "expected_step"), [("Normal", 3), ("Before Motion", 4)])
def test_before_generation_composites_before_or_after_the_motion(extracted, clip, texture, mode, expected_step):
    hv = hybrid(extracted, clip, hybrid_composite=mode, hybrid_motion="Affine", hybrid_comp_alpha_schedule="0:(1)")
    out, _ = hv.before_generation(3, np.zeros((H, W, 3), np.uint8), _keys(hv))
    inner = (slice(12, -12), slice(12, -12))
    assert np.abs(out[inner].astype(int) - view(texture, expected_step)[inner]).mean() < 6  # off by a step: ~29


def test_after_generation_composites_only_in_its_mode_and_after_frame_zero(extracted, clip):
    image = np.zeros((H, W, 3), np.uint8)
    hv = hybrid(extracted, clip, hybrid_composite="After Generation")
    assert hv.after_generation(0, image, _keys(hv)) is image
    assert (hv.after_generation(2, image, _keys(hv)) == hv.frame(2) // 2).sum() > 0.9 * image.size
    normal = hybrid(extracted, clip)
    assert normal.after_generation(2, image, _keys(normal)) is image


def test_tween_motion_moves_only_the_advancing_images(extracted, clip, texture):
    hv = hybrid(extracted, clip, hybrid_motion="Affine", hybrid_composite="None")
    prev, nxt = view(texture, 2), view(texture, 1)
    kept, moved, _ = hv.tween_motion(3, prev, nxt, _keys(hv), schedule_frame=4, advance_prev=False,
                                     advance_next=True, prev_image=None)
    assert kept is prev
    assert np.abs(moved[12:-12, 12:-12].astype(int) - view(texture, 2)[12:-12, 12:-12]).mean() < 4
    assert hv.tween_motion(0, prev, nxt, _keys(hv), schedule_frame=4, advance_prev=True, advance_next=True,
                           prev_image=None) == (prev, nxt, None)
