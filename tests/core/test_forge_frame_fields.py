"""FreeU, Kohya deep shrink and distilled CFG read per frame into each request; delete_input_frames after the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from deforum.core.engine import RenderServices
from deforum.core.run import run_render
from deforum.models.generation import DeepShrink, FreeU
from deforum.models.settings import Settings
from tests.conftest import RecordingPreviewService
from tests.core.test_modes import make_video


def small(**changes: object) -> Settings:
    values = {"W": 64, "H": 64, "max_frames": 3, "animation_mode": "2D", "diffusion_cadence": 1, "seed": 5,
              "skip_video_creation": True}
    return Settings().replace(**{**values, **changes})


def requests(settings: Settings, root: Path) -> list:
    service = RecordingPreviewService()
    run_render(settings, RenderServices(model=service), root, timestring="20240101000000")
    return service.requests


def test_freeu_factors_follow_their_schedules_per_frame(tmp_path: Path) -> None:
    settings = small(freeu_enabled=True, freeu_b1="0: (1.1), 2: (1.3)", freeu_b2="0: (1.4)", freeu_s1="0: (0.9)",
                     freeu_s2="0: (0.2+t*0.1)")
    got = [r.freeu for r in requests(settings, tmp_path)]
    assert got == [FreeU(1.1, 1.4, 0.9, 0.2), FreeU(pytest.approx(1.2), 1.4, 0.9, pytest.approx(0.3)),
                   FreeU(1.3, 1.4, 0.9, pytest.approx(0.4))]


def test_deep_shrink_follows_the_kohya_keys_per_frame(tmp_path: Path) -> None:
    settings = small(kohya_hrfix_enabled=True, kohya_hrfix_block_number="0: (1), 1: (3)",
                     kohya_hrfix_downscale_factor="0: (2.0)", kohya_hrfix_start_percent="0: (0.1)",
                     kohya_hrfix_end_percent="0: (0.5)", kohya_hrfix_downscale_after_skip=True,
                     kohya_hrfix_downscale_method="area", kohya_hrfix_upscale_method="bilinear")
    got = [r.deep_shrink for r in requests(settings, tmp_path)]
    assert got[0] == DeepShrink(1, 2.0, 0.1, 0.5, True, "area", "bilinear")
    assert [d.block_number for d in got] == [1, 3, 3]


def test_features_off_leave_the_request_plain_and_distilled_cfg_is_scheduled(tmp_path: Path) -> None:
    got = requests(small(distilled_cfg_scale_schedule="0: (3.5), 2: (5)"), tmp_path)
    assert [(r.freeu, r.deep_shrink) for r in got] == [(None, None)] * 3
    assert [r.distilled_cfg_scale for r in got] == [3.5, 4.25, 5.0]


@pytest.mark.parametrize("delete", [True, False])
def test_delete_input_frames_removes_the_extracted_frames_after_the_run(tmp_path: Path, delete: bool) -> None:
    video = make_video(tmp_path)
    settings = small(animation_mode="Video Input", video_init_path=str(video),
                     delete_input_frames=delete)
    service = RecordingPreviewService()
    result = run_render(settings, RenderServices(model=service), tmp_path / "out", timestring="20240101000000")
    assert len(service.requests) == 6  # Video Input renders every extracted frame
    assert (result.outdir / "inputframes").exists() is not delete
