"""Video Input and Interpolation modes in preview: input frames, max_frames, prompts and seeds per frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deforum.config.settings_io import load
from deforum.core.engine import RenderServices
from deforum.core.preview import PreviewModelService, mock_generation
from deforum.core.run import run_render
from deforum.media.frames_io import existing_frames, read_image, write_png_atomic
from deforum.media.video import stitch_video
from tests.conftest import DATA, RecordingPreviewService

COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200), (200, 30, 200)]


def make_video(folder: Path) -> Path:
    """A 6-frame 64×64 video, one flat colour per frame."""
    for i, colour in enumerate(COLOURS):
        write_png_atomic(folder / f"src_{i:09}.png", np.full((64, 64, 3), colour, np.uint8))
    video = folder / "clip.mp4"
    stitch_video(str(folder / "src_%09d.png"), str(video), 6, crf=0, preset="ultrafast")
    return video



def base(**changes: object):
    settings = load(DATA / "compat/original/default_settings.txt")
    return settings.replace(**{"W": 64, "H": 64, "seed": 3, "batch_name": "m", "legacy_colormatch": False,
                               **changes})


def test_video_input_diffuses_every_extracted_frame(tmp_path: Path) -> None:
    video = make_video(tmp_path)
    service = RecordingPreviewService()
    result = run_render(base(animation_mode="Video Input", video_init_path=str(video), extract_nth_frame=2,
                             max_frames=100, diffusion_cadence=3, strength_schedule="0: (0.65)"),
                        RenderServices(model=service), tmp_path / "out", timestring="20240101000000")
    assert existing_frames(result.outdir, result.timestring) == [0, 1, 2]
    assert len(list((result.outdir / "inputframes").glob("*.jpg"))) == 3
    assert [r.seed for r in service.requests] == [3, 4, 5]
    for frame, colour in zip(range(3), COLOURS[::2]):
        request = service.requests[frame]
        assert request.init_image is not None and request.denoising_strength == pytest.approx(0.35)
        assert np.abs(request.init_image.astype(int) - colour).max() <= 6
        expected = mock_generation(request.init_image, 0.35)
        assert np.array_equal(read_image(result.outdir / f"20240101000000_{frame:09}.png"), expected)
    saved = load(result.outdir / "20240101000000_settings.txt")
    assert saved.anim.max_frames == 3


def test_video_input_missing_video_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises((ValueError, FileNotFoundError), match="video_init_path|nope.mp4"):
        run_render(base(animation_mode="Video Input", video_init_path=str(tmp_path / "nope.mp4")),
                   RenderServices(model=PreviewModelService()), tmp_path, timestring="20240101000000")


def test_interpolation_blends_prompts_and_makes_each_frame_from_scratch(tmp_path: Path) -> None:
    service = RecordingPreviewService()
    result = run_render(base(animation_mode="Interpolation", max_frames=5, diffusion_cadence=4,
                             prompts={"0": "a cat", "4": "a dog"}, animation_prompts_negative="",
                             skip_video_creation=True),
                        RenderServices(model=service), tmp_path, timestring="20240101000000")
    assert existing_frames(result.outdir, result.timestring) == [0, 1, 2, 3, 4]
    assert all(r.init_image is None for r in service.requests)
    assert [r.seed for r in service.requests] == [3, 4, 5, 6, 7]
    assert "a cat" in service.requests[0].prompt and "a dog" in service.requests[-1].prompt
    assert "a cat" in service.requests[2].prompt and "a dog" in service.requests[2].prompt


def test_example_init_video_every_nth(example_video: Path, tmp_path: Path) -> None:
    result = run_render(base(animation_mode="Video Input", video_init_path=str(example_video),
                             extract_nth_frame=40, skip_video_creation=True),
                        RenderServices(model=PreviewModelService()), tmp_path, timestring="20240101000000")
    frames = existing_frames(result.outdir, result.timestring)
    assert len(frames) >= 2 and frames == list(range(len(frames)))
