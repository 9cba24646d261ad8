"""Optical-flow cadence, optical-flow redo and diffusion redo in the render loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deforum.config.settings_io import load
from deforum.core.engine import RenderServices
from deforum.core.preview import PreviewModelService
from deforum.core.redo import redo_seed
from deforum.core.run import run_render
from deforum.media.frames_io import read_image
from tests.conftest import DATA, RecordingPreviewService


def settings(**changes: object):
    base = load(DATA / "compat/original/default_settings.txt")
    return base.replace(**{"W": 64, "H": 64, "seed": 11, "batch_name": "f", "legacy_colormatch": False,
                           "animation_mode": "2D", "translation_x": "0: (3)", "skip_video_creation": True,
                           "diffusion_cadence": 1,
                           **changes})


def frames(result, count: int) -> list[np.ndarray]:
    return [read_image(result.outdir / f"{result.timestring}_{i:09}.png") for i in range(count)]


def test_optical_flow_cadence_changes_the_in_between_frames(tmp_path: Path) -> None:
    plain = run_render(settings(diffusion_cadence=3, max_frames=7), RenderServices(model=PreviewModelService()),
                       tmp_path / "plain", timestring="20240101000000")
    flowed = run_render(settings(diffusion_cadence=3, max_frames=7, optical_flow_cadence="DIS Medium"),
                        RenderServices(model=PreviewModelService()), tmp_path / "flow", timestring="20240101000000")
    a, b = frames(plain, 7), frames(flowed, 7)
    assert all(np.array_equal(x, y) for x, y in zip(a[:3], b[:3]))
    assert any(not np.array_equal(x, y) for x, y in zip(a[3:], b[3:]))


def test_diffusion_redo_generates_extra_times_with_reproducible_seeds(tmp_path: Path) -> None:
    service = RecordingPreviewService()
    run_render(settings(max_frames=3, diffusion_redo="2"), RenderServices(model=service), tmp_path,
               timestring="20240101000000")
    seeds = [r.seed for r in service.requests]
    assert len(seeds) == 1 + 2 * 3
    assert seeds[0] == 11
    assert seeds[1:4] == [redo_seed(11, 1, "diffusion", 0), redo_seed(11, 1, "diffusion", 1), 12]
    assert service.requests[2].init_image is not None


def test_redo_is_skipped_in_motion_preview(tmp_path: Path) -> None:
    service = RecordingPreviewService()
    run_render(settings(max_frames=3, diffusion_redo="2", optical_flow_redo_generation="DIS Fine",
                        motion_preview_mode=True), RenderServices(model=service), tmp_path,
               timestring="20240101000000")
    assert len(service.requests) == 3


def test_optical_flow_redo_adds_one_generation(tmp_path: Path) -> None:
    service = RecordingPreviewService()
    run_render(settings(max_frames=3, optical_flow_redo_generation="DIS Fine"), RenderServices(model=service),
               tmp_path, timestring="20240101000000")
    assert [r.seed for r in service.requests][1:3] == [redo_seed(11, 1, "flow", 0), 12]


class BlankUntil(RecordingPreviewService):
    """Returns black frames for the first `blanks` generations."""

    def __init__(self, blanks: int) -> None:
        super().__init__()
        self.blanks = blanks

    def generate(self, request, cancel=None):
        result = super().generate(request, cancel)
        if len(self.requests) <= self.blanks:
            return type(result)(image=np.zeros_like(result.image), seed=request.seed)
        return result


def test_reroll_blank_frames_retries_with_the_next_seed(tmp_path: Path) -> None:
    service = BlankUntil(2)
    result = run_render(settings(max_frames=2, reroll_blank_frames="reroll"), RenderServices(model=service),
                        tmp_path, timestring="20240101000000")
    assert [r.seed for r in service.requests] == [11, 12, 13, 12]
    assert frames(result, 2)[0].any()


def test_blank_frame_interrupts_and_keeps_frames(tmp_path: Path) -> None:
    service = BlankUntil(1)
    result = run_render(settings(max_frames=3, reroll_blank_frames="interrupt"), RenderServices(model=service),
                        tmp_path, timestring="20240101000000")
    assert result.cancelled and result.frames_written == 0


def test_reroll_patience_used_up_stops(tmp_path: Path) -> None:
    service = BlankUntil(100)
    result = run_render(settings(max_frames=3, reroll_blank_frames="reroll", reroll_patience=3),
                        RenderServices(model=service), tmp_path, timestring="20240101000000")
    assert result.cancelled and len(service.requests) == 4
