"""Full-size SD 1.5 and SDXL networks with random weights, built from the configs shipped in
`deforum/integrations/diffusers/configs`: real timings where no checkpoint may be downloaded (the pictures are
noise). The tokenizer is the tiny test one; the text encoders keep their full size."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Literal

CONFIGS = Path(__file__).resolve().parent.parent / "deforum" / "integrations" / "diffusers" / "configs"
Family = Literal["sd15", "sdxl"]


def _config(name: str) -> dict[str, Any]:
    """A shipped config as a dict."""
    return json.loads((CONFIGS / name / ("scheduler_config.json" if name == "scheduler" else "config.json"))
                      .read_text(encoding="utf-8"))


def _text_encoder(name: str, tokenizer: Any, projection: bool) -> Any:
    """A CLIP text encoder of the shipped config's size, random weights, ids matching the tokenizer."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = _config(name)
    config.update(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    config = CLIPTextConfig(**{k: v for k, v in config.items() if not k.startswith("_")})
    return (CLIPTextModelWithProjection if projection else CLIPTextModel)(config).eval()


def random_pipeline(family: Family, device: str, dtype: Any) -> Any:
    """A StableDiffusion(XL)Pipeline of full size with random weights on `device` in `dtype`."""
    import torch
    from diffusers import EulerDiscreteScheduler

    from deforum.integrations.diffusers.testing import write_tiny_tokenizer
    from deforum.integrations.diffusers.tokenizer import load_clip_tokenizer

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        tokenizer_dir = write_tiny_tokenizer(Path(folder) / "tokenizer")
        tokenizer = load_clip_tokenizer(tokenizer_dir)
        tokenizer_2 = load_clip_tokenizer(tokenizer_dir, "!") if family == "sdxl" else None
    scheduler = EulerDiscreteScheduler.from_config(_config("scheduler"))
    with torch.device(device):
        pipe = _build(family, tokenizer, tokenizer_2, scheduler)
    return pipe.to(device, dtype)


def _build(family: Family, tokenizer: Any, tokenizer_2: Any, scheduler: Any) -> Any:
    """The pipeline's networks, built on the current default device."""
    from diffusers import AutoencoderKL, StableDiffusionPipeline, StableDiffusionXLPipeline, UNet2DConditionModel

    if family == "sd15":
        pipe = StableDiffusionPipeline(
            vae=AutoencoderKL.from_config(_config("vae")), text_encoder=_text_encoder("clip_l", tokenizer, False),
            tokenizer=tokenizer, unet=UNet2DConditionModel.from_config(_config("unet_sd1")), scheduler=scheduler,
            safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    else:
        pipe = StableDiffusionXLPipeline(
            vae=AutoencoderKL.from_config(_config("vae_sdxl")), text_encoder=_text_encoder("clip_l", tokenizer, False),
            text_encoder_2=_text_encoder("clip_g", tokenizer_2, True), tokenizer=tokenizer, tokenizer_2=tokenizer_2,
            unet=UNet2DConditionModel.from_config(_config("unet_sdxl")), scheduler=scheduler)
    return pipe


def random_model_factory(family: Family, device: str) -> Any:
    """A model factory (Settings → ModelService) over one random pipeline, built on the first call."""
    import torch

    from deforum.integrations.diffusers.service import DiffusersModelService

    built: list[Any] = []

    def factory(settings: Any) -> Any:
        if not built:
            dtype = torch.float16 if device.startswith("cuda") else torch.float32
            built.append(DiffusersModelService.from_pipeline(random_pipeline(family, device, dtype),
                                                             name=f"random {family}"))
        return built[0]

    return factory
