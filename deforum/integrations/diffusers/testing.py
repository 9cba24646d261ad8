"""Tiny random-weight SD / SDXL pipelines built from configs, for tests and benchmarks (no downloads)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deforum.integrations.diffusers.tokenizer import clip_vocab

TINY_MERGES = (("a", "t</w>"), ("c", "at</w>"), ("d", "o"), ("do", "g</w>"), ("r", "e"), ("re", "d</w>"),
               ("t", "h"), ("th", "e</w>"))
SCHEDULER_CONFIG = Path(__file__).resolve().parent / "configs" / "scheduler" / "scheduler_config.json"


def write_tiny_tokenizer(folder: Path) -> Path:
    """A CLIP-style vocab.json + merges.txt (byte symbols plus a few merges) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(clip_vocab(list(TINY_MERGES))), encoding="utf-8")
    lines = ["#version: 0.2", *(" ".join(pair) for pair in TINY_MERGES)]
    (folder / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _text_encoder(hidden: int, vocab: int, projection: bool, act: str) -> Any:
    """A 3-layer CLIP text encoder (layer-norm biases randomised so features have a non-zero mean, as trained ones)."""
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=3,
                            num_attention_heads=4, max_position_embeddings=77, hidden_act=act,
                            projection_dim=hidden, bos_token_id=vocab - 2, eos_token_id=vocab - 1, pad_token_id=1)
    model = (CLIPTextModelWithProjection if projection else CLIPTextModel)(config).eval()
    for module in model.modules():
        if isinstance(module, torch.nn.LayerNorm):
            torch.nn.init.normal_(module.bias, mean=0.2, std=0.3)
    return model


def _unet(in_channels: int, context: int, sdxl: bool, pooled: int) -> Any:
    """A two-level UNet with 8×8 latents."""
    from diffusers import UNet2DConditionModel

    blocks = (("DownBlock2D", "CrossAttnDownBlock2D"), ("CrossAttnUpBlock2D", "UpBlock2D")) if sdxl else \
        (("CrossAttnDownBlock2D", "DownBlock2D"), ("UpBlock2D", "CrossAttnUpBlock2D"))
    extra = {"addition_embed_type": "text_time", "addition_time_embed_dim": 8,
             "projection_class_embeddings_input_dim": pooled + 6 * 8, "use_linear_projection": True} if sdxl else {}
    return UNet2DConditionModel(sample_size=8, in_channels=in_channels, out_channels=4, layers_per_block=1,
                                block_out_channels=(32, 64), down_block_types=blocks[0], up_block_types=blocks[1],
                                cross_attention_dim=context, attention_head_dim=4, norm_num_groups=16,
                                **extra).eval()


def _vae() -> Any:
    """A four-level VAE (8× down-sampling, like SD's) with few channels."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1,
                         block_out_channels=(8, 8, 16, 16), norm_num_groups=8, sample_size=64,
                         down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4).eval()


def tiny_pipeline(tokenizer_dir: Path, *, sdxl: bool = False, inpainting: bool = False, seed: int = 0) -> Any:
    """A random-weight StableDiffusion(XL)Pipeline at 64×64 with the tokenizer in `tokenizer_dir`."""
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline, StableDiffusionXLPipeline

    from deforum.integrations.diffusers.tokenizer import load_clip_tokenizer

    torch.manual_seed(seed)
    tokenizer = load_clip_tokenizer(tokenizer_dir)
    vocab = len(tokenizer)
    scheduler = EulerDiscreteScheduler.from_config(json.loads(SCHEDULER_CONFIG.read_text()))
    if not sdxl:
        unet = _unet(9 if inpainting else 4, 32, False, 0)
        return StableDiffusionPipeline(vae=_vae(), text_encoder=_text_encoder(32, vocab, False, "quick_gelu"),
                                       tokenizer=tokenizer, unet=unet, scheduler=scheduler, safety_checker=None,
                                       feature_extractor=None, requires_safety_checker=False)
    tokenizer_2 = load_clip_tokenizer(tokenizer_dir, "!")
    return StableDiffusionXLPipeline(vae=_vae(), text_encoder=_text_encoder(32, vocab, False, "quick_gelu"),
                                     text_encoder_2=_text_encoder(48, vocab, True, "gelu"), tokenizer=tokenizer,
                                     tokenizer_2=tokenizer_2, unet=_unet(9 if inpainting else 4, 80, True, 48),
                                     scheduler=scheduler)


def _lora_layers(model: Any, targets: list[str], rank: int, seed: int) -> dict[str, Any]:
    """Random LoRA A/B weights (PEFT names) for `targets` of a copy of `model`."""
    import copy

    import torch
    from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model

    torch.manual_seed(seed)
    config = LoraConfig(r=rank, lora_alpha=rank, target_modules=targets, init_lora_weights=False)
    twin = inject_adapter_in_model(config, copy.deepcopy(model), adapter_name="tiny")
    return {k: v.detach().clone() for k, v in get_peft_model_state_dict(twin, adapter_name="tiny").items()}


def _kohya(layers: dict[str, Any], prefix: str, rank: int) -> dict[str, Any]:
    """PEFT-named layers renamed as kohya's sd-scripts writes them (lora_down/lora_up/alpha)."""
    import torch

    out: dict[str, Any] = {}
    for key, value in layers.items():
        module, part = key.rsplit(".lora_", 1)
        name = f"{prefix}_{module.replace('.', '_')}"
        out[f"{name}.lora_{'down' if part.startswith('A') else 'up'}.weight"] = value
        out[f"{name}.alpha"] = torch.tensor(float(rank))
    return out


def write_tiny_lora(pipe: Any, path: Path, *, kohya: bool = False, seed: int = 0, rank: int = 4) -> Path:
    """A random LoRA for the UNet's attention and the text encoders, as a diffusers or kohya .safetensors."""
    from safetensors.torch import save_file

    unet = _lora_layers(pipe.unet, ["to_q", "to_k", "to_v", "to_out.0"], rank, seed)
    encoders = [e for e in (pipe.text_encoder, getattr(pipe, "text_encoder_2", None)) if e is not None]
    layers = [_lora_layers(encoder, ["q_proj", "k_proj", "v_proj", "out_proj"], rank, seed + 1 + i)
              for i, encoder in enumerate(encoders)]
    texts = [{k if k.startswith("text_model.") else f"text_model.{k}": v for k, v in text.items()} for text in layers]
    if kohya:
        prefixes = ("lora_te",) if len(texts) == 1 else ("lora_te1", "lora_te2")
        state = {**_kohya(unet, "lora_unet", rank)}
        for prefix, text in zip(prefixes, texts):
            state.update(_kohya(text, prefix, rank))
    else:
        state = {f"unet.{k}": v for k, v in unet.items()}
        for prefix, text in zip(("text_encoder", "text_encoder_2"), texts):
            state.update({f"{prefix}.{k}": v for k, v in text.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path


FLUX_SCHEDULER = {"base_image_seq_len": 256, "base_shift": 0.5, "max_image_seq_len": 4096, "max_shift": 1.15,
                  "num_train_timesteps": 1000, "shift": 3.0, "use_dynamic_shifting": True}


def tiny_flux_pipeline(tokenizer_dir: Path, *, seed: int = 0, guidance: bool = True) -> Any:
    """A random-weight FluxPipeline (one double and one single block, tiny T5 and CLIP) at 64×64 latents of 8×8."""
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import T5Config, T5EncoderModel

    from deforum.integrations.diffusers.tokenizer import load_clip_tokenizer

    torch.manual_seed(seed)
    tokenizer = load_clip_tokenizer(tokenizer_dir)
    transformer = FluxTransformer2DModel(patch_size=1, in_channels=16, num_layers=1, num_single_layers=1,
                                         attention_head_dim=8, num_attention_heads=2, joint_attention_dim=32,
                                         pooled_projection_dim=32, guidance_embeds=guidance, axes_dims_rope=(2, 2, 4))
    if guidance:
        for weight in transformer.time_text_embed.guidance_embedder.parameters():
            torch.nn.init.normal_(weight, std=0.5)
    t5 = T5EncoderModel(T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=1,
                                 num_heads=4, decoder_start_token_id=0, pad_token_id=1))
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1,
                        block_out_channels=(8, 8, 16, 16), norm_num_groups=8, sample_size=64, shift_factor=0.1,
                        scaling_factor=0.5, down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4)
    return FluxPipeline(scheduler=FlowMatchEulerDiscreteScheduler(**FLUX_SCHEDULER), vae=vae.eval(),
                        text_encoder=_text_encoder(32, len(tokenizer), False, "quick_gelu"), tokenizer=tokenizer,
                        text_encoder_2=t5.eval(), tokenizer_2=load_clip_tokenizer(tokenizer_dir),
                        transformer=transformer.eval())


def write_tiny_flux_lora(pipe: Any, path: Path, *, seed: int = 0, rank: int = 4, text: bool = False) -> Path:
    """A random LoRA for a Flux transformer's attention (and CLIP's, with `text`), in diffusers' layout."""
    from safetensors.torch import save_file

    layers = {f"transformer.{k}": v for k, v in _lora_layers(pipe.transformer, ["to_q", "to_k", "to_v"], rank,
                                                                seed).items()}
    if text:
        clip = _lora_layers(pipe.text_encoder, ["q_proj", "v_proj"], rank, seed + 1)
        layers.update({f"text_encoder.text_model.{k}": v for k, v in clip.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in layers.items()}, str(path))
    return path
