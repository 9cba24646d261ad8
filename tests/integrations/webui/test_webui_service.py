"""WebUIModelService against the stub WebUI: processing fields, samplers, options, checkpoints, interrupt, pause."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from deforum.core.services import CancelToken, RenderCancelled
from deforum.integrations.webui.service import WebUIModelService, pause_point, resolve_sampler
from deforum.models.generation import GenerationRequest
from tests.webui_stub.fixture import webui_host  # noqa: F401  (the `webui` fixture)

REQUEST = GenerationRequest(frame=3, prompt="a cat", negative_prompt="blur", seed=7, width=64, height=48, steps=5,
                            cfg_scale=6.5, sampler="Euler a", scheduler="Karras", subseed=11, subseed_strength=0.3,
                            seed_resize_from_w=32, seed_resize_from_h=16, tiling=True, restore_faces=True)


def _service(webui) -> WebUIModelService:
    return WebUIModelService(webui.root / "out", total_frames=10)


def test_txt2img_fields_as_the_original_set_them(webui) -> None:
    result = _service(webui).generate(REQUEST)
    p = webui.processing.CALLS[-1]
    assert type(p).__name__ == "StableDiffusionProcessingTxt2Img"
    expected = dict(prompt="a cat", negative_prompt="blur", seed=7, subseed=11, subseed_strength=0.3,
                    seed_resize_from_w=32, seed_resize_from_h=16, sampler_name="Euler a", scheduler="Karras",
                    steps=5, cfg_scale=6.5, width=64, height=48, tiling=True, restore_faces=True, batch_size=1,
                    n_iter=1, do_not_save_samples=True, do_not_save_grid=True, enable_hr=False, denoising_strength=0)
    assert {k: p.kwargs[k] for k in expected} == expected
    assert p.closed and p.override_settings == {}
    assert result.image.shape == (48, 64, 3) and result.image.dtype == np.uint8 and result.seed == 7
    assert webui.shared.state.current_image is not None and webui.shared.state.job == "frame 4/10"


def test_img2img_fields_include_init_denoise_and_mask_options(webui) -> None:
    init = np.full((48, 64, 3), 120, np.uint8)
    mask = np.zeros((48, 64), np.uint8)
    request = dataclasses.replace(REQUEST, init_image=init, mask=mask, denoising_strength=0.35, fill=2,
                                  full_res_mask=False, full_res_mask_padding=9, mask_blur=3, invert_mask=True,
                                  pix2pix_img_cfg_scale=1.7)
    _service(webui).generate(request)
    p = webui.processing.CALLS[-1]
    assert type(p).__name__ == "StableDiffusionProcessingImg2Img"
    assert np.array_equal(np.asarray(p.init_images[0]), init) and p.mask.mode == "L"
    assert (p.denoising_strength, p.inpainting_fill) == (0.35, 2)
    assert (p.inpaint_full_res, p.inpaint_full_res_padding) == (False, 9)
    assert (p.mask_blur, p.inpainting_mask_invert, p.image_cfg_scale, p.resize_mode) == (3, 1, 1.7, 0)


def test_legacy_sampler_names_split_and_unknown_names_are_named(webui) -> None:
    assert resolve_sampler("DPM++ 2M Karras", "Automatic") == ("DPM++ 2M", "Karras")
    assert resolve_sampler("k_euler_a", "simple") == ("Euler a", "Simple")
    with pytest.raises(ValueError, match="'sampler'"):
        resolve_sampler("Nope", "Automatic")
    with pytest.raises(ValueError, match="'scheduler'"):
        resolve_sampler("Euler a", "Nope")


def test_scheduled_options_are_written_before_the_processing_is_built(webui) -> None:
    request = dataclasses.replace(REQUEST, clip_skip=2, noise_multiplier=1.05, ddim_eta=0.2, ancestral_eta=0.7)
    _service(webui).generate(request)
    seen = webui.processing.CALLS[-1].opts_at_build
    assert (seen["CLIP_stop_at_last_layers"], seen["initial_noise_multiplier"]) == (2, 1.05)
    assert (seen["eta_ddim"], seen["eta_ancestral"]) == (0.2, 0.7)


def test_checkpoint_schedule_switches_the_model_through_the_override(webui) -> None:
    _service(webui).generate(dataclasses.replace(REQUEST, checkpoint="other.safetensors"))
    p = webui.processing.CALLS[-1]
    assert p.override_settings == {"sd_model_checkpoint": "other.safetensors [def456]"}
    assert webui.sd_models.LOADED[-1] == "other.safetensors [def456]"
    with pytest.raises(ValueError, match="checkpoint_schedule"):
        _service(webui).generate(dataclasses.replace(REQUEST, checkpoint="missing.ckpt"))


def test_interrupt_before_a_frame_cancels_the_token(webui) -> None:
    webui.shared.state.interrupt()
    cancel = CancelToken()
    with pytest.raises(RenderCancelled):
        _service(webui).generate(REQUEST, cancel)
    assert cancel.cancelled and webui.processing.CALLS == []


def test_interrupt_during_a_frame_discards_the_partial_image(webui) -> None:
    webui.processing.HOOKS.append(lambda p: webui.shared.state.interrupt())
    with pytest.raises(RenderCancelled):
        _service(webui).generate(REQUEST, CancelToken())
    webui.processing.HOOKS.clear()


def test_pause_during_a_frame_waits_for_resume_then_generates_the_frame_again(webui) -> None:
    state = webui.shared.state
    webui.processing.HOOKS.append(lambda p: state.skip() if len(webui.processing.CALLS) == 1 else None)
    waits = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            state.skip()

    result = WebUIModelService(webui.root, total_frames=1, sleep=sleep).generate(REQUEST)
    webui.processing.HOOKS.clear()
    assert len(webui.processing.CALLS) == 2 and len(waits) == 3 and not state.skipped
    assert result.image.shape == (48, 64, 3)


def test_pause_point_returns_at_once_when_not_paused_and_raises_when_interrupted_while_paused(webui) -> None:
    state = webui.shared.state
    pause_point(CancelToken(), sleep=lambda s: pytest.fail("should not wait"))
    state.skip()
    with pytest.raises(RenderCancelled):
        pause_point(CancelToken(), sleep=lambda s: state.interrupt())
