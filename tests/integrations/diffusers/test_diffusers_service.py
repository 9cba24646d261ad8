"""DiffusersModelService on a tiny random-weight SD pipeline, through the real diffusers code at 64×64."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from deforum.core.services import CancelToken, ModelService, RenderCancelled
from deforum.integrations.diffusers import sampling
from deforum.integrations.diffusers.service import SAMPLER_NAMES, DiffusersModelService
from deforum.integrations.diffusers.testing import tiny_pipeline, write_tiny_tokenizer
from deforum.models.generation import GenerationRequest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    """The tiny pipeline on the CPU, or on DEFORUM_TEST_DEVICE (e.g. cuda, in float16) for a GPU check."""
    import torch

    device = os.environ.get("DEFORUM_TEST_DEVICE", "cpu")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        pipe = tiny_pipeline(write_tiny_tokenizer(tmp_path_factory.mktemp("tokenizer")))
        pipe.to(device, torch.float16 if device.startswith("cuda") else torch.float32)
        yield DiffusersModelService.from_pipeline(pipe)
    torch.set_num_threads(threads)


@pytest.fixture
def unet_calls(service: DiffusersModelService):
    calls: list[int] = []
    handle = service.parts.unet.register_forward_hook(lambda *_: calls.append(1))
    yield calls
    handle.remove()


def request(**changes: object) -> GenerationRequest:
    base = GenerationRequest(frame=0, prompt="a cat", negative_prompt="red", seed=1, width=64, height=64, steps=4,
                             cfg_scale=7.0, sampler="Euler")
    return dataclasses.replace(base, **changes)


def gen(service: DiffusersModelService, **changes: object) -> np.ndarray:
    return service.generate(request(**changes)).image


def differ(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture(scope="module")
def init_image(service: DiffusersModelService) -> np.ndarray:
    return service.generate(request(seed=11)).image


def test_is_a_model_service_and_makes_rgb_uint8(service: DiffusersModelService) -> None:
    out = service.generate(request())
    assert isinstance(service, ModelService)
    assert out.image.shape == (64, 64, 3) and out.image.dtype == np.uint8
    assert out.seed == 1 and "Sampler: Euler" in out.info and "Seed: 1" in out.info
    assert out.image.std() > 5


@pytest.mark.parametrize("sampler", ["Euler", "Euler a", "DPM++ 2M SDE"])
def test_same_seed_same_image_and_other_seed_other_image(service: DiffusersModelService, sampler: str) -> None:
    first = gen(service, sampler=sampler)
    assert np.array_equal(first, gen(service, sampler=sampler))
    assert differ(first, gen(service, sampler=sampler, seed=2)) > 1


def test_subseed_strength(service: DiffusersModelService) -> None:
    plain = gen(service)
    assert np.array_equal(plain, gen(service, subseed=5, subseed_strength=0.0))
    assert np.array_equal(gen(service, subseed=5, subseed_strength=1.0), gen(service, seed=5))
    between = gen(service, subseed=5, subseed_strength=0.3)
    assert differ(between, plain) > 0.5 and differ(between, gen(service, seed=5)) > 0.5


def test_seed_resize_changes_the_noise_not_the_size(service: DiffusersModelService) -> None:
    resized = gen(service, seed_resize_from_w=32, seed_resize_from_h=48)
    assert resized.shape == (64, 64, 3) and differ(resized, gen(service)) > 0.5


def test_random_seed_is_reported_and_reproducible(service: DiffusersModelService) -> None:
    out = service.generate(request(seed=-1))
    assert out.seed != -1 and np.array_equal(out.image, gen(service, seed=out.seed))


def test_size_is_rounded_down_to_multiples_of_8(service: DiffusersModelService) -> None:
    assert gen(service, width=70, height=66).shape == (64, 64, 3)
    assert gen(service, width=64, height=40).shape == (40, 64, 3)


def test_cfg_clip_skip_prompt_and_tiling_change_the_image(service: DiffusersModelService) -> None:
    plain = gen(service)
    assert differ(plain, gen(service, cfg_scale=1.0)) > 0.5
    assert differ(plain, gen(service, clip_skip=2)) > 0.5
    assert differ(plain, gen(service, prompt="a (cat:1.6)")) > 0.05
    assert differ(plain, gen(service, tiling=True)) > 0.5
    assert np.array_equal(plain, gen(service))


@pytest.mark.parametrize(("sampler", "denoise", "calls"), [
    ("Euler", 0.0, 1), ("Euler", 0.5, 6), ("Euler", 1.0, 10), ("Euler", 0.25, 3),
    ("DDIM", 0.5, 5), ("DDIM", 0.0, 0), ("Heun", 0.5, 11)])
def test_img2img_runs_the_webui_step_count(service: DiffusersModelService, init_image: np.ndarray, unet_calls: list,
                                           sampler: str, denoise: float, calls: int) -> None:
    out = gen(service, sampler=sampler, steps=10, init_image=init_image, denoising_strength=denoise, cfg_scale=1.0)
    assert out.shape == (64, 64, 3)
    assert len(unet_calls) == calls


def test_img2img_without_steps_is_the_vae_round_trip(service: DiffusersModelService, init_image: np.ndarray) -> None:
    from deforum.integrations.diffusers import images

    parts = service.parts
    latents = sampling.vae_encode(parts.vae, images.to_tensor(init_image, parts.device, parts.vae.dtype)).float()
    round_trip = images.from_tensor(sampling.vae_decode(parts.vae, latents))
    out = gen(service, sampler="DDIM", init_image=init_image, denoising_strength=0.0)
    assert np.array_equal(out, round_trip)


def test_img2img_strength_and_noise_multiplier(service: DiffusersModelService, init_image: np.ndarray) -> None:
    round_trip = gen(service, sampler="DDIM", init_image=init_image, denoising_strength=0.0)
    low = gen(service, init_image=init_image, denoising_strength=0.3)
    high = gen(service, init_image=init_image, denoising_strength=1.0)
    assert differ(low, round_trip) < differ(high, round_trip)
    assert np.array_equal(low, gen(service, init_image=init_image, denoising_strength=0.3))
    assert differ(low, gen(service, init_image=init_image, denoising_strength=0.3, noise_multiplier=1.2)) > 0.1


def test_img2img_takes_other_sizes_gray_and_rgba(service: DiffusersModelService, init_image: np.ndarray) -> None:
    big = np.repeat(np.repeat(init_image, 2, axis=0), 2, axis=1)
    rgba = np.concatenate([init_image, np.full((64, 64, 1), 255, np.uint8)], axis=2)
    for image in (big, rgba, init_image[..., 0]):
        assert gen(service, init_image=image, denoising_strength=0.5).shape == (64, 64, 3)


@pytest.mark.parametrize("fill", [0, 1, 2, 3])
def test_empty_mask_keeps_the_init_image(service: DiffusersModelService, init_image: np.ndarray, fill: int) -> None:
    mask = np.zeros((64, 64), np.uint8)
    out = gen(service, init_image=init_image, denoising_strength=0.7, mask=mask, fill=fill, mask_blur=0)
    assert np.array_equal(out, init_image)


def test_mask_regenerates_only_the_masked_area(service: DiffusersModelService, init_image: np.ndarray) -> None:
    mask = np.zeros((64, 64), np.uint8)
    mask[:, 32:] = 255
    kwargs = {"init_image": init_image, "denoising_strength": 0.9, "mask_blur": 0}
    outs = [gen(service, mask=mask, fill=fill, **kwargs) for fill in range(4)]
    assert all(np.array_equal(out[:, :28], init_image[:, :28]) for out in outs)
    assert all(differ(out[:, 36:], init_image[:, 36:]) > 0.5 for out in outs)
    assert differ(outs[1], outs[3]) > 0.01
    inverted = gen(service, mask=mask, fill=1, invert_mask=True, **kwargs)
    assert np.array_equal(inverted[:, 36:], init_image[:, 36:])


def test_mask_errors(service: DiffusersModelService, init_image: np.ndarray) -> None:
    mask = np.ones((64, 64), np.uint8)
    with pytest.raises(ValueError, match="init image"):
        gen(service, mask=mask)
    with pytest.raises(ValueError, match="fill"):
        gen(service, init_image=init_image, mask=mask, fill=7)


@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
def test_every_sampler_generates(service: DiffusersModelService, init_image: np.ndarray, sampler: str) -> None:
    out = gen(service, sampler=sampler, steps=3, init_image=init_image, denoising_strength=0.8)
    assert out.shape == (64, 64, 3) and 0 < out.mean() < 255


def test_sampler_and_schedule_switch_per_request(service: DiffusersModelService) -> None:
    euler = gen(service)
    others = [gen(service, sampler=s, scheduler=k) for s, k in
              [("DPM++ 2M Karras", "Automatic"), ("Euler", "Karras"), ("DPM++ 2M SDE", "Exponential")]]
    assert all(differ(euler, other) > 0.05 for other in others)
    assert np.array_equal(euler, gen(service))


def test_unknown_sampler_is_a_clear_error(service: DiffusersModelService) -> None:
    with pytest.raises(ValueError, match="valid samplers"):
        gen(service, sampler="Eulr a")
    with pytest.raises(ValueError, match="steps"):
        gen(service, steps=0)


def test_cancel_before_and_during_sampling(service: DiffusersModelService) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(RenderCancelled):
        service.generate(request(), token)
    token = CancelToken()
    handle = service.parts.unet.register_forward_hook(lambda *_: token.cancel())
    try:
        with pytest.raises(RenderCancelled):
            service.generate(request(steps=8), token)
    finally:
        handle.remove()
    assert service.generate(request()).image.shape == (64, 64, 3)


@pytest.mark.slow
def test_renders_through_the_engine(service: DiffusersModelService, tmp_path: Path) -> None:
    from deforum.config.settings_io import load
    from deforum.core.engine import RenderServices
    from deforum.core.run import run_render
    from deforum.media.frames_io import existing_frames
    from tests.conftest import DATA

    settings = load(DATA / "compat/original/default_settings.txt").replace(
        W=64, H=64, max_frames=3, steps=4, seed=3, batch_name="run", skip_video_creation=True)
    result = run_render(settings, RenderServices(model=service), tmp_path, timestring="20240101000000")
    assert existing_frames(result.outdir, result.timestring) == [0, 1, 2]
