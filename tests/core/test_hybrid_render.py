"""Hybrid video in the render: composite toward the video, motion from the video, extra frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deforum.config.settings_io import load
from deforum.core.engine import RenderServices
from deforum.core.preview import PreviewModelService
from deforum.core.run import run_render
from deforum.core.services import CancelToken
from deforum.media.frames_io import existing_frames, read_image, write_png_atomic
from deforum.media.video import stitch_video
from tests.conftest import DATA
from tests.core.test_render import CancelAfter


def textured_video(folder: Path, frames: int = 6) -> Path:
    """A noise texture panning 4 px right per frame, tinted blue."""
    texture = np.random.default_rng(0).integers(0, 255, (64, 120, 3), dtype=np.uint8)
    texture[..., 2] = 230
    for i in range(frames):
        write_png_atomic(folder / f"v_{i:09}.png", texture[:, 40 - 4 * i:104 - 4 * i])
    stitch_video(str(folder / "v_%09d.png"), str(folder / "clip.mp4"), 6, crf=0, preset="ultrafast")
    return folder / "clip.mp4"


def settings(tmp_path: Path, **changes: object):
    base = load(DATA / "compat/original/default_settings.txt")
    return base.replace(**{"W": 64, "H": 64, "seed": 4, "batch_name": "hy", "animation_mode": "2D",
                           "diffusion_cadence": 2, "max_frames": 100, "skip_video_creation": True,
                           "video_init_path": str(textured_video(tmp_path)), "noise_schedule": "0:(0)",
                           "color_coherence": "None", **changes})


@pytest.mark.parametrize("composite", ["Normal", "Before Motion", "After Generation"])
def test_composite_pulls_frames_toward_the_video(tmp_path: Path, composite: str) -> None:
    result = run_render(settings(tmp_path, hybrid_composite=composite, hybrid_comp_alpha_schedule="0:(0.8)",
                                 hybrid_comp_save_extra_frames=True),
                        RenderServices(model=PreviewModelService()), tmp_path / "out", timestring="20240101000000")
    frames = existing_frames(result.outdir, result.timestring)
    assert frames == list(range(6))
    video = read_image(tmp_path / "v_000000005.png").astype(float)
    last = read_image(result.outdir / "20240101000000_000000005.png").astype(float)
    plain = run_render(settings(tmp_path, hybrid_use_first_frame_as_init_image=False),
                       RenderServices(model=PreviewModelService()), tmp_path / "plain", timestring="20240101000000")
    baseline = read_image(plain.outdir / "20240101000000_000000005.png").astype(float)
    assert np.abs(last - video).mean() < np.abs(baseline - video).mean() - 10
    assert (result.outdir / "hybridframes").is_dir()


@pytest.mark.parametrize("motion", ["Affine", "Perspective", "Optical Flow"])
def test_hybrid_motion_renders(tmp_path: Path, motion: str) -> None:
    result = run_render(settings(tmp_path, hybrid_motion=motion, hybrid_flow_method="DIS Medium"),
                        RenderServices(model=PreviewModelService()), tmp_path / "out", timestring="20240101000000")
    assert existing_frames(result.outdir, result.timestring) == list(range(6))


def test_depth_mask_without_a_depth_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="hybrid_comp_mask_type"):
        run_render(settings(tmp_path, hybrid_composite="Normal", hybrid_comp_mask_type="Depth"),
                   RenderServices(model=PreviewModelService()), tmp_path / "out", timestring="20240101000000")


def test_dis_hybrid_flow_resumes_identically(tmp_path: Path) -> None:
    changes = {"hybrid_motion": "Optical Flow", "hybrid_flow_method": "DIS Medium", "diffusion_cadence": 1}
    full = run_render(settings(tmp_path, **changes), RenderServices(model=PreviewModelService()),
                      tmp_path / "full", timestring="20240101000000")
    token = CancelToken()
    part = run_render(settings(tmp_path, **changes), RenderServices(model=CancelAfter(token, 4)),
                      tmp_path / "part", cancel=token, timestring="20240101000000")
    assert part.cancelled and 0 < part.frames_written < 6
    assert (tmp_path / "part" / "hy" / ".deforum-resume-20240101000000.npz").is_file()
    resumed = run_render(settings(tmp_path, **changes), RenderServices(model=PreviewModelService()),
                         tmp_path / "part", resume="20240101000000")
    for i in range(6):
        name = f"20240101000000_{i:09}.png"
        assert (full.outdir / name).read_bytes() == (resumed.outdir / name).read_bytes(), name
