"""Flux on the diffusers service: a tiny random Flux pipeline (transformer, T5, CLIP, VAE built from configs)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from deforum.animation.schedules import evaluate_schedule
from deforum.config.weights import WeightsMissing
from deforum.integrations.diffusers import flux_loading
from deforum.integrations.diffusers.flux import (
    FluxModelService,
    distilled_guidance,
    flux_schedule_options,
    pipeline_strength,
)
from deforum.integrations.diffusers.sampling import img2img_runs
from deforum.integrations.diffusers.service import load_model_service
from deforum.integrations.diffusers.testing import tiny_flux_pipeline, write_tiny_flux_lora, write_tiny_tokenizer
from deforum.models.generation import GenerationRequest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
GIB = 1024 ** 3


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Flux dev pipeline saved as a diffusers folder under a WebUI models folder."""
    root = tmp_path_factory.mktemp("models")
    pipe = tiny_flux_pipeline(write_tiny_tokenizer(tmp_path_factory.mktemp("tokenizer")))
    pipe.save_pretrained(str(root / "diffusers" / "FLUX.1-dev"))
    write_tiny_flux_lora(pipe, root / "Lora" / "fluxstyle.safetensors", seed=3)
    write_tiny_flux_lora(pipe, root / "Lora" / "fluxclip.safetensors", seed=4, text=True)
    return root / "diffusers" / "FLUX.1-dev"


@pytest.fixture(scope="module")
def service(folder: Path) -> FluxModelService:
    import torch

    torch.set_num_threads(1)
    loaded = load_model_service(str(folder), device="cpu", models_dir=str(folder.parent.parent))
    assert isinstance(loaded, FluxModelService) and loaded.guided
    return loaded


def request(**changes: object) -> GenerationRequest:
    base = GenerationRequest(frame=0, prompt="a cat", negative_prompt="", seed=7, width=64, height=64, steps=4,
                             cfg_scale=1.0, sampler="Euler", scheduler="Simple", denoising_strength=0.6)
    return dataclasses.replace(base, **changes)


def guided(value: float, **changes: object) -> GenerationRequest:
    """A request carrying this frame's distilled CFG the way the engine hands it over (its field, else `extra`)."""
    names = {field.name for field in dataclasses.fields(GenerationRequest)}
    if "distilled_cfg_scale" in names:
        return request(distilled_cfg_scale=value, **changes)
    return request(extra={"distilled_cfg_scale": value}, **changes)


def most(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


def test_img2img_frames_follow_the_distilled_cfg_schedule(service: FluxModelService) -> None:
    schedule = evaluate_schedule("0: (1.0), 2: (7.0)", 3, name="distilled_cfg_scale_schedule")
    assert list(schedule) == [1.0, 4.0, 7.0]
    seen: list[float] = []
    handle = service.pipe.transformer.register_forward_pre_hook(
        lambda _, args, kwargs: seen.append(float(kwargs["guidance"][0])), with_kwargs=True)
    init = service.generate(request(denoising_strength=1.0)).image
    seen.clear()
    try:
        frames = [service.generate(guided(g, frame=f, init_image=init)).image
                  for f, g in enumerate(schedule)]
    finally:
        handle.remove()
    runs = img2img_runs(4, 0.6, timestep_based=False)
    assert seen == [g for g in schedule for _ in range(runs)]
    assert most(frames[0], frames[1]) > 2 and most(frames[1], frames[2]) > 2
    again = service.generate(guided(4.0, init_image=init)).image
    assert most(again, frames[1]) == 0
    assert frames[0].shape == (64, 64, 3) and frames[0].dtype == np.uint8


def test_txt2img_guidance_defaults_to_the_forks_3_5(service: FluxModelService) -> None:
    assert distilled_guidance(request()) == 3.5
    default = service.generate(request(denoising_strength=1.0)).image
    assert most(default, service.generate(guided(3.5)).image) == 0
    assert most(default, service.generate(guided(9.0)).image) > 2
    assert "Distilled CFG Scale: 3.5" in service.generate(request()).info


def test_true_cfg_with_a_negative_prompt_changes_the_frame(service: FluxModelService) -> None:
    plain = service.generate(request(negative_prompt="red")).image
    assert most(plain, service.generate(request(negative_prompt="red", cfg_scale=4.0)).image) > 2


def test_prompts_are_encoded_once_and_again_after_a_clip_lora_weight_change(service: FluxModelService) -> None:
    import torch

    t5_calls: list[int] = []
    handle = service.pipe.text_encoder_2.register_forward_hook(lambda *_: t5_calls.append(1))
    try:
        first = service.generate(request(prompt="a red dog")).image
        assert most(service.generate(request(prompt="a red dog", frame=1)).image, first) == 0
        assert len(t5_calls) == 1
        service.generate(request(prompt="a red dog <lora:fluxclip:0.5:0>"))
        service.generate(request(prompt="a red dog <lora:fluxclip:0.5:0>", frame=1))
        assert len(t5_calls) == 2
    finally:
        handle.remove()
    service.generate(request(prompt="a red dog"))
    direct = service.pipe(prompt="a red dog", height=64, width=64, num_inference_steps=4, guidance_scale=3.5,
                          generator=torch.Generator("cpu").manual_seed(7), output_type="np").images[0]
    assert most(np.clip(np.rint(direct * 255), 0, 255).astype(np.uint8), first) == 0


def test_sampler_and_schedule_names(service: FluxModelService) -> None:
    assert flux_schedule_options("Euler", "Karras", 0) == {"use_karras_sigmas": True}
    assert flux_schedule_options("Euler", "Automatic", 0) == {}
    with pytest.raises(ValueError, match="frame 5: sampler 'DPM\\+\\+ 2M' has no flow-matching form.*Euler"):
        service.generate(request(frame=5, sampler="DPM++ 2M"))
    with pytest.raises(ValueError, match="schedule type 'Polyexponential' is not available for Flux"):
        flux_schedule_options("Euler", "Polyexponential", 1)
    karras = service.generate(request(scheduler="Karras")).image
    assert most(karras, service.generate(request()).image) > 0


def test_flux_lora_weight_switches_per_frame(service: FluxModelService) -> None:
    from deforum.integrations.diffusers.lora import LoraNotFound

    plain = service.generate(request(prompt="a cat")).image
    half, full = (service.generate(request(prompt=f"a cat <lora:fluxstyle:{w}>")).image for w in (0.5, 1.0))
    assert most(half, plain) > 2 and most(full, half) > 2
    assert most(service.generate(request(prompt="a cat <lora:fluxstyle:0>")).image, plain) == 0
    assert most(service.generate(request(prompt="a cat")).image, plain) == 0
    with pytest.raises(LoraNotFound, match="'gone' \\(frame 4"):
        service.generate(request(frame=4, prompt="a cat <lora:gone:1>"))
    clip_only = service.generate(request(prompt="a cat <lora:fluxclip:1:0>")).image
    both = service.generate(request(prompt="a cat <lora:fluxclip:1>")).image
    assert most(clip_only, plain) > 2 and most(both, clip_only) > 2
    assert most(service.generate(request(prompt="a cat")).image, plain) == 0


def test_checkpoint_schedule_cannot_leave_flux(service: FluxModelService) -> None:
    with pytest.raises(ValueError, match="switching checkpoints is not supported with Flux"):
        service.generate(request(frame=2, checkpoint="sd15.safetensors"))
    assert service.generate(request(checkpoint="FLUX.1-dev")).image.shape == (64, 64, 3)


def test_flux_files_are_detected_and_need_a_base_folder(tmp_path: Path, folder: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    from safetensors.torch import save_file

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    single = tmp_path / "Stable-diffusion" / "flux1-dev.safetensors"
    single.parent.mkdir()
    save_file({"double_blocks.0.img_attn.norm.key_norm.scale": torch.ones(2), "guidance_in.in_layer.weight":
               torch.ones(2)}, str(single))
    sd = tmp_path / "sd.safetensors"
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.ones(2)}, str(sd))
    assert flux_loading.is_flux(single) and flux_loading.is_flux(folder)
    assert not flux_loading.is_flux(sd) and not flux_loading.is_flux(folder.parent)
    with pytest.raises(WeightsMissing, match="single Flux transformer file") as error:
        flux_loading.find_flux_base((tmp_path,), single)
    assert str(tmp_path / "diffusers" / "FLUX.1-dev") in str(error.value)
    assert flux_loading.find_flux_base((folder.parent.parent,), single) == folder


@pytest.mark.parametrize(("steps", "strength"), [(20, 0.65), (4, 0.6), (30, 0.2), (25, 0.0), (10, 1.0), (7, 0.43)])
def test_img2img_runs_the_webuis_step_count(steps: int, strength: float) -> None:
    from diffusers import FluxImg2ImgPipeline

    runs = min(img2img_runs(steps, strength, timestep_based=False), steps)
    pipe = FluxImg2ImgPipeline.__new__(FluxImg2ImgPipeline)
    pipe.scheduler = type("Scheduler", (), {"order": 1, "timesteps": list(range(steps))})()
    assert len(pipe.get_timesteps(steps, pipeline_strength(steps, strength), "cpu")[0]) == max(runs, 1)


@pytest.mark.parametrize(("device", "total", "plan"), [
    ("cuda", 141 * GIB, "gpu"), ("cuda", 48 * GIB, "gpu"), ("cuda", 24 * GIB, "fp8-offload"),
    ("cuda", 16 * GIB, "fp8-offload"), ("cuda", 12 * GIB, "sequential-offload"), ("cpu", None, "cpu"),
    ("mps", None, "gpu"),
])
def test_memory_plan(device: str, total: int | None, plan: str) -> None:
    assert flux_loading.memory_plan(device, total) == plan


def test_standalone_render_of_the_forks_defaults_with_a_flux_folder(tmp_path: Path, folder: Path) -> None:
    import json

    import deforum
    from tests.conftest import DATA

    data = json.loads((DATA / "compat/forge-fork/default_settings.txt").read_text())
    data.update(W=64, H=64, max_frames=3, steps=3, animation_mode="2D", batch_name="flux", seed=5,
                prompts={"0": "a cat <lora:fluxstyle:`t/2`>"}, animation_prompts_negative="",
                cfg_scale_schedule="0: (1)")
    path = tmp_path / "settings.txt"
    path.write_text(json.dumps(data))
    result = deforum.render(path, tmp_path / "out", model=str(folder), models_dir=str(folder.parent.parent))
    frames = sorted(Path(result.outdir).glob("*_00000000[0-2].png"))
    assert len(frames) == 3
    from PIL import Image

    pixels = [np.asarray(Image.open(frame).convert("RGB")) for frame in frames]
    assert pixels[0].shape == (64, 64, 3) and most(pixels[0], pixels[1]) > 0


def test_a_missing_lora_stops_the_render_before_anything_is_written(tmp_path: Path, folder: Path) -> None:
    import json

    import deforum
    from deforum.integrations.diffusers.lora import LoraNotFound
    from tests.conftest import DATA

    data = json.loads((DATA / "compat/forge-fork/default_settings.txt").read_text())
    data.update(W=64, H=64, max_frames=2, steps=2, animation_mode="2D", prompts={"0": "a", "1": "b <lora:gone:1>"})
    path = tmp_path / "settings.txt"
    path.write_text(json.dumps(data))
    with pytest.raises(LoraNotFound, match="'gone' in prompts\\['1'\\]"):
        deforum.render(path, tmp_path / "out", model=str(folder), models_dir=str(folder.parent.parent))
    assert not (tmp_path / "out").exists()


def test_a_single_transformer_file_loads_with_the_base_folders_other_parts(tmp_path: Path, folder: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import shutil

    configs = tmp_path / "configs"
    (configs / "flux_dev_transformer").mkdir(parents=True)
    shutil.copy(folder / "transformer" / "config.json", configs / "flux_dev_transformer" / "config.json")
    monkeypatch.setattr(flux_loading, "CONFIGS", configs)
    single = tmp_path / "Stable-diffusion" / "tiny-flux.safetensors"
    single.parent.mkdir()
    shutil.copy(next((folder / "transformer").glob("*.safetensors")), single)
    assert flux_loading.is_flux(single)
    assert json.loads((configs / "flux_dev_transformer" / "config.json").read_text())["guidance_embeds"] is True
    loaded = load_model_service(str(single), device="cpu", models_dir=str(folder.parent.parent))
    assert isinstance(loaded, FluxModelService) and loaded.guided
    reference = load_model_service(str(folder), device="cpu")
    assert most(loaded.generate(request()).image, reference.generate(request()).image) == 0
