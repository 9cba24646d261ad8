"""`<lora:name:weight>` on the diffusers service: tiny random SD pipeline, tiny LoRA files (diffusers and kohya)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from deforum.integrations.diffusers import lora
from deforum.integrations.diffusers.lora import LoraNotFound, LoraUse, check_prompt_loras, split_lora_tags
from deforum.integrations.diffusers.service import DiffusersModelService
from deforum.integrations.diffusers.testing import tiny_pipeline, write_tiny_lora, write_tiny_tokenizer
from deforum.models.generation import GenerationRequest
from deforum.prompt.schedule import expand_backticks

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_tokenizer(tmp_path_factory.mktemp("tokenizer"))


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, tokenizer: Path) -> Path:
    """A WebUI models folder with one diffusers-format and one kohya-format LoRA of the same weights."""
    root = tmp_path_factory.mktemp("models")
    pipe = tiny_pipeline(tokenizer)
    write_tiny_lora(pipe, root / "Lora" / "style.safetensors", seed=5)
    write_tiny_lora(pipe, root / "Lora" / "sub" / "style_kohya.safetensors", seed=5, kohya=True)
    return root


def make_service(tokenizer: Path, models: Path) -> DiffusersModelService:
    import torch

    torch.set_num_threads(1)
    return DiffusersModelService.from_pipeline(tiny_pipeline(tokenizer), models_dir=models)


def request(prompt: str, frame: int = 0) -> GenerationRequest:
    return GenerationRequest(frame=frame, prompt=prompt, negative_prompt="red", seed=1, width=64, height=64,
                             steps=3, cfg_scale=7.0, sampler="Euler")


def render(service: DiffusersModelService, prompt: str, frame: int = 0) -> np.ndarray:
    return service.generate(request(prompt, frame)).image


def most(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


def test_tags_are_split_with_a1111_multipliers() -> None:
    text, uses = split_lora_tags("a cat <lora:style:0.5>, <lora:b:0.2:0.7> <lyco:c:te=0.1:unet=0.3:dyn=4><lora:d>")
    assert text == "a cat ,  "
    assert uses == (LoraUse("style", 0.5, 0.5), LoraUse("b", 0.2, 0.7), LoraUse("c", 0.1, 0.3), LoraUse("d", 1, 1))
    assert split_lora_tags("<lora:x:0.25> and <lora:x:0.5>")[1] == (LoraUse("x", 0.75, 0.75),)
    with pytest.raises(ValueError, match="'abc' is not a number"):
        split_lora_tags("<lora:x:abc>")


def test_backtick_weight_changes_frames_and_matches_a_one_off_fuse(tokenizer: Path, models: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from diffusers.loaders.lora_base import fuse_text_encoder_lora

    reads: list[Path] = []
    original = lora._state_and_alphas
    monkeypatch.setattr(lora, "_state_and_alphas", lambda path, sdxl: reads.append(path) or original(path, sdxl))
    prompts = expand_backticks("a cat <lora:style:`t/2`>", np.arange(3), max_f=3, seed=1)
    assert prompts == ["a cat <lora:style:0.0>", "a cat <lora:style:0.5>", "a cat <lora:style:1.0>"]
    service = make_service(tokenizer, models)
    plain = render(service, "a cat ")
    frames = [render(service, prompt, frame) for frame, prompt in enumerate(prompts)]
    assert len(reads) == 1
    assert most(frames[0], plain) == 0
    assert most(frames[1], frames[0]) > 10 and most(frames[2], frames[1]) > 10
    fused = make_service(tokenizer, models)
    render(fused, "a cat <lora:style:1>")
    fused.parts.unet.fuse_lora(lora_scale=0.5)
    fuse_text_encoder_lora(fused.parts.text_encoders[0], lora_scale=0.5)
    fused.parts.prompts.forget()
    assert most(render(fused, "a cat <lora:style:1>"), frames[1]) <= 1
    assert most(render(service, "a cat <lora:style:0.5>"), frames[1]) == 0


def test_kohya_file_renders_like_the_diffusers_file(tokenizer: Path, models: Path) -> None:
    service = make_service(tokenizer, models)
    diffusers_format = render(service, "a cat <lora:style:0.8>")
    kohya_format = render(service, "a cat <lora:sub/style_kohya:0.8>")
    assert most(diffusers_format, kohya_format) <= 1
    assert most(diffusers_format, render(service, "a cat ")) > 10
    assert service.loras.loaded == ("style", "sub/style_kohya")


def test_text_encoder_and_unet_multipliers_act_separately(tokenizer: Path, models: Path) -> None:
    service = make_service(tokenizer, models)
    both = render(service, "a cat <lora:style:1:1>")
    unet_only = render(service, "a cat <lora:style:0:1>")
    text_only = render(service, "a cat <lora:style:1:0>")
    plain = render(service, "a cat ")
    assert min(most(both, unet_only), most(both, text_only), most(unet_only, plain), most(text_only, plain)) > 0


def test_missing_lora_names_prompt_frame_and_folders(tokenizer: Path, models: Path) -> None:
    service = make_service(tokenizer, models)
    with pytest.raises(LoraNotFound) as error:
        service.generate(dataclasses.replace(request("a dog <lora:nowhere:0.7>"), frame=12))
    message = str(error.value)
    assert "'nowhere'" in message and "frame 12" in message and "a dog <lora:nowhere:0.7>" in message
    assert str(models / "Lora") in message and str(models / "LyCORIS") in message
    with pytest.raises(ValueError, match="frame 3: LoRA tag"):
        service.generate(request("<lora:style:x>", frame=3))


def test_sdxl_lora_reaches_both_text_encoders(tmp_path: Path, tokenizer: Path) -> None:
    import torch

    torch.set_num_threads(1)
    pipe = tiny_pipeline(tokenizer, sdxl=True)
    write_tiny_lora(pipe, tmp_path / "Lora" / "xl.safetensors", seed=2)
    write_tiny_lora(pipe, tmp_path / "Lora" / "xl_kohya.safetensors", seed=2, kohya=True)
    service = DiffusersModelService.from_pipeline(pipe, models_dir=tmp_path)
    plain = render(service, "a cat ")
    with_lora = render(service, "a cat <lora:xl:1>")
    assert most(with_lora, plain) > 10
    assert most(render(service, "a cat <lora:xl:0>"), plain) == 0
    text_only = render(service, "a cat <lora:xl:1:0>")
    assert most(text_only, plain) > 0
    assert all(any("deforum_lora_0" in name for name, _ in encoder.named_parameters())
               for encoder in service.parts.text_encoders)
    assert most(render(service, "a cat <lora:xl_kohya:1>"), with_lora) <= 1


def test_prompts_are_checked_for_missing_loras_before_rendering(models: Path) -> None:
    folders = [models / "Lora"]
    check_prompt_loras({"prompts['0']": "a <lora:style:`t/10`> <LORA:sub/style_kohya:1>"}, folders)
    with pytest.raises(LoraNotFound) as error:
        check_prompt_loras({"prompts['0']": "<lora:style:1>", "prompts['30']": "<lyco: gone :`sin(t)`>",
                            "animation_prompts_positive": "<lora:also_gone>"}, folders)
    message = str(error.value)
    assert "'gone' in prompts['30']" in message and "'also_gone' in animation_prompts_positive" in message
    assert "'style'" not in message and str(models / "Lora") in message
