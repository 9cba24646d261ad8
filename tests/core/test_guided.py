"""Guided images (use_looper): the first guide starts the render, later inits blend toward the current guide."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deforum.animation.keys import build_keys
from deforum.config.settings_io import load
from deforum.core.engine import RenderServices
from deforum.core.guided import GuidedImagesError, blend_factor, guide_index, parse_guided_images
from deforum.core.run import run_render
from deforum.media.frames_io import write_png_atomic
from tests.conftest import DATA, RecordingPreviewService


def guides(tmp_path: Path) -> str:
    for name, colour in (("red", (220, 20, 20)), ("blue", (20, 20, 220))):
        write_png_atomic(tmp_path / f"{name}.png", np.full((64, 64, 3), colour, np.uint8))
    return json.dumps({"0": str(tmp_path / "red.png"), "max_f/2": str(tmp_path / "blue.png")})


def test_keys_may_be_expressions_of_max_f(tmp_path: Path) -> None:
    guided = parse_guided_images(guides(tmp_path), 7)
    assert guided.swap_frames == (0, 3)
    assert [guide_index(guided, f) for f in range(7)] == [0, 0, 0, 1, 1, 1, 1]


def test_bad_guided_images_are_clear_errors() -> None:
    with pytest.raises(GuidedImagesError, match="init_images"):
        parse_guided_images("{not json", 10)
    with pytest.raises(GuidedImagesError, match=r"key 'max_f\+__import__'"):
        parse_guided_images('{"max_f+__import__": "a.png"}', 10)


def test_blend_factor_follows_the_cosine_inside_the_tweening_window() -> None:
    guided = parse_guided_images('{"0": "a", "10": "b"}', 40)
    keys = build_keys({"tweening_frames_schedule": "0:(4)", "blendFactorMax": "0:(0.35)",
                       "blendFactorSlope": "0:(0.25)"}, 40, 1)
    assert blend_factor(guided, keys, 2) == pytest.approx(0.35 - 0.25 * np.cos(1.0))
    assert blend_factor(guided, keys, 7) == pytest.approx(0.07)


def test_guided_render_starts_from_the_first_guide_and_blends_toward_the_next(tmp_path: Path) -> None:
    settings = load(DATA / "compat/original/default_settings.txt").replace(
        W=64, H=64, max_frames=7, diffusion_cadence=1, animation_mode="2D", use_looper=True, seed=2,
        init_images=guides(tmp_path), batch_name="g", skip_video_creation=True, noise_schedule="0:(0)",
        image_strength_schedule="0:(0.75)")
    service = RecordingPreviewService()
    result = run_render(settings, RenderServices(model=service), tmp_path, timestring="20240101000000")
    first, later = service.requests[0], service.requests[5]
    assert np.abs(first.init_image.astype(int) - (220, 20, 20)).max() <= 1
    assert first.denoising_strength == pytest.approx(0.25) and first.color_correction is None
    assert later.color_correction is not None
    assert later.init_image[..., 2].mean() > first.init_image[..., 2].mean()
    saved = load(result.outdir / "20240101000000_settings.txt")
    assert saved.args.seed_behavior == "schedule" and saved.args.strength_0_no_init is False
