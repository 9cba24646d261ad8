"""The loaded model as the service uses it: UNet, VAE, text encoders, tokenizers, noise schedule, device."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deforum.integrations.diffusers.prompts import PromptEncoder

OPENCLIP_H_WIDTH = 1024
DTYPES = {"float16": "float16", "fp16": "float16", "half": "float16", "bfloat16": "bfloat16", "bf16": "bfloat16",
          "float32": "float32", "fp32": "float32", "float": "float32"}


def pick_device(device: str | None) -> Any:
    """The requested device, else CUDA when available, else the CPU."""
    import torch

    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def pick_dtype(dtype: str | None, device: Any) -> Any:
    """The requested dtype, else float16 on CUDA and float32 elsewhere."""
    import torch

    if dtype:
        name = DTYPES.get(str(dtype).lower().removeprefix("torch."))
        if name is None:
            raise ValueError(f"Unknown dtype {dtype!r}; use one of {', '.join(sorted(DTYPES))}")
        return getattr(torch, name)
    return torch.float16 if device.type == "cuda" else torch.float32


@dataclass
class ModelParts:
    """One loaded checkpoint, ready to generate."""

    unet: Any
    vae: Any
    tokenizers: tuple
    text_encoders: tuple
    scheduler_config: dict
    name: str
    sdxl: bool = False
    tiling_mode: str = "zeros"
    prompts: PromptEncoder = field(init=False)

    def __post_init__(self) -> None:
        config = getattr(self.text_encoders[0], "config", None)
        openclip = int(getattr(config, "hidden_size", 0)) == OPENCLIP_H_WIDTH
        self.prompts = PromptEncoder(self.tokenizers, self.text_encoders, self.sdxl, self.device, self.dtype,
                                     clip_skip=not (self.sdxl or openclip))

    @property
    def device(self) -> Any:
        """Where the UNet runs."""
        return self.unet.device

    @property
    def dtype(self) -> Any:
        """The UNet's weights dtype (conditioning is cast to it)."""
        return self.unet.dtype

    @property
    def vae_factor(self) -> int:
        """Pixels per latent cell (8 for Stable Diffusion)."""
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def latent_channels(self) -> int:
        """Channels of the latent image."""
        return int(self.vae.config.latent_channels)

    @property
    def inpainting(self) -> bool:
        """True for inpainting UNets (latent + mask + masked-image channels)."""
        return int(self.unet.config.in_channels) > self.latent_channels


def upcast_vae(vae: Any, sdxl: bool) -> Any:
    """Keep SDXL's VAE (it overflows in float16) in float32, as diffusers' force_upcast asks."""
    import torch

    if sdxl and getattr(vae.config, "force_upcast", False) and vae.dtype == torch.float16:
        vae.to(torch.float32)
    return vae


def parts_from_pipeline(pipe: Any, name: str = "pipeline") -> ModelParts:
    """ModelParts from a diffusers Stable Diffusion or SDXL pipeline (its components are shared, not copied)."""
    encoder_2 = getattr(pipe, "text_encoder_2", None)
    tokenizers = (pipe.tokenizer, pipe.tokenizer_2) if encoder_2 is not None else (pipe.tokenizer,)
    encoders = (pipe.text_encoder, encoder_2) if encoder_2 is not None else (pipe.text_encoder,)
    if any(part is None for part in (pipe.unet, pipe.vae, *tokenizers, *encoders)):
        raise ValueError("the pipeline lacks a UNet, VAE, tokenizer or text encoder")
    config = {k: v for k, v in dict(pipe.scheduler.config).items() if not k.startswith("_")}
    sdxl = encoder_2 is not None
    return ModelParts(unet=pipe.unet, vae=upcast_vae(pipe.vae, sdxl), tokenizers=tokenizers, text_encoders=encoders,
                      scheduler_config=config, name=name, sdxl=sdxl)
