"""Masks in the render: inpainting mask per frame, noise mask, overlay, mask video."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deforum.config.settings_io import load
from deforum.core.engine import RenderServices
from deforum.core.preview import PreviewModelService
from deforum.core.run import run_render
from deforum.media.frames_io import read_image, write_png_atomic
from deforum.media.video import stitch_video
from tests.conftest import DATA, RecordingPreviewService


def half_mask(tmp_path: Path) -> Path:
    """White (change) on the left half, black on the right."""
    mask = np.zeros((64, 64, 3), np.uint8)
    mask[:, :32] = 255
    write_png_atomic(tmp_path / "mask.png", mask)
    return tmp_path / "mask.png"


def settings(tmp_path: Path, **changes: object):
    init = np.full((64, 64, 3), (10, 200, 10), np.uint8)
    write_png_atomic(tmp_path / "init.png", init)
    base = load(DATA / "compat/original/default_settings.txt")
    return base.replace(**{"W": 64, "H": 64, "seed": 4, "batch_name": "mk", "animation_mode": "2D",
                           "diffusion_cadence": 1, "max_frames": 3, "skip_video_creation": True,
                           "use_mask": True, "mask_file": str(half_mask(tmp_path)), "overlay_mask": False,
                           "mask_schedule": '0: ("{video_mask}")', **changes})


def test_mask_file_reaches_every_img2img_request(tmp_path: Path) -> None:
    service = RecordingPreviewService()
    run_render(settings(tmp_path), RenderServices(model=service), tmp_path / "out", timestring="20240101000000")
    first, later = service.requests[0], service.requests[2]
    assert first.init_image is None and first.mask is None
    assert later.mask is not None and later.mask[:, :32].min() == 255 and later.mask[:, 32:].max() == 0


def test_invert_mask_is_passed_to_the_service_with_the_mask(tmp_path: Path) -> None:
    service = RecordingPreviewService()
    run_render(settings(tmp_path, invert_mask=True), RenderServices(model=service), tmp_path / "out",
               timestring="20240101000000")
    request = service.requests[2]
    assert request.invert_mask is True and request.mask[:, :32].min() == 255 and request.mask[:, 32:].max() == 0


def test_mask_expressions_compose_per_frame(tmp_path: Path) -> None:
    service = RecordingPreviewService()
    run_render(settings(tmp_path, mask_schedule='0: ("!{video_mask}"), 2: ("{everywhere}")'),
               RenderServices(model=service), tmp_path / "out", timestring="20240101000000")
    assert service.requests[1].mask[:, :32].max() == 0 and service.requests[1].mask[:, 32:].min() == 255
    assert service.requests[2].mask.min() == 255


def test_overlay_pastes_the_init_back_outside_the_mask(tmp_path: Path) -> None:
    result = run_render(settings(tmp_path, overlay_mask=True, use_init=True, init_image=str(tmp_path / "init.png"),
                                 strength=0.5), RenderServices(model=PreviewModelService()), tmp_path / "out",
                        timestring="20240101000000")
    frame = read_image(result.outdir / "20240101000000_000000002.png").astype(int)
    assert np.abs(frame[:, 40:] - (10, 200, 10)).max() <= 2
    assert np.abs(frame[:, :20] - (10, 200, 10)).max() > 2


def test_noise_mask_keeps_noise_out_of_the_black_area(tmp_path: Path) -> None:
    plain = run_render(settings(tmp_path, use_mask=False, noise_schedule="0:(0)"),
                       RenderServices(model=PreviewModelService()), tmp_path / "plain", timestring="20240101000000")
    masked = run_render(settings(tmp_path, use_mask=False, use_noise_mask=True, noise_schedule="0:(0.5)",
                                 noise_mask_schedule=f'0: ("[{half_mask(tmp_path)}]")'),
                        RenderServices(model=PreviewModelService()), tmp_path / "noisy", timestring="20240101000000")
    a = read_image(plain.outdir / "20240101000000_000000002.png").astype(int)
    b = read_image(masked.outdir / "20240101000000_000000002.png").astype(int)
    assert np.abs(a[:, :32] - b[:, :32]).mean() > np.abs(a[:, 36:] - b[:, 36:]).mean()


def test_mask_video_limits_max_frames_and_is_extracted(tmp_path: Path) -> None:
    for i in range(3):
        frame = np.zeros((64, 64, 3), np.uint8)
        frame[:, : 16 * (i + 1)] = 255
        write_png_atomic(tmp_path / f"m_{i:09}.png", frame)
    stitch_video(str(tmp_path / "m_%09d.png"), str(tmp_path / "mask.mp4"), 3, crf=0, preset="ultrafast")
    service = RecordingPreviewService()
    result = run_render(settings(tmp_path, use_mask=False, use_mask_video=True,
                                 video_mask_path=str(tmp_path / "mask.mp4"), max_frames=10),
                        RenderServices(model=service), tmp_path / "out", timestring="20240101000000")
    assert result.frames_written == 3
    assert len(list((result.outdir / "maskframes").glob("*.jpg"))) == 3
    assert service.requests[2].mask[:, :40].min() == 255 and service.requests[2].mask[:, 56:].max() == 0


def test_word_masks_come_from_the_render_services_word_masker(tmp_path: Path) -> None:
    def left_half(image: np.ndarray, words: str) -> np.ndarray:
        mask = np.zeros(image.shape[:2], np.uint8)
        mask[:, : image.shape[1] // 2] = 255 if words == "a cat" else 0
        return mask

    service = RecordingPreviewService()
    run_render(settings(tmp_path, mask_schedule='0: ("<a cat>")'),
               RenderServices(model=service, word_masker=left_half), tmp_path / "out", timestring="20240101000000")
    assert service.requests[2].mask[:, :32].min() == 255 and service.requests[2].mask[:, 32:].max() == 0
