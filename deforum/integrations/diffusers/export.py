"""Save a diffusers SD/SDXL pipeline as a WebUI single-file checkpoint (the original LDM key layout)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

UNET, VAE = "model.diffusion_model.", "first_stage_model."
SD1_CLIP, SDXL_CLIP_L = "cond_stage_model.transformer.", "conditioner.embedders.0.transformer."
SD2_CLIP, SDXL_CLIP_G = "cond_stage_model.model.", "conditioner.embedders.1.model."
RESNET = (("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("norm2", "out_layers.0"), ("conv2", "out_layers.3"),
          ("time_emb_proj", "emb_layers.1"), ("conv_shortcut", "skip_connection"))
UNET_TOP = {"time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
            "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2",
            "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2"}
VAE_ATTN = (("group_norm", "norm"), ("to_q", "q"), ("to_k", "k"), ("to_v", "v"), ("to_out.0", "proj_out"))
OPEN_CLIP_LAYER = (("self_attn.out_proj", "attn.out_proj"), ("layer_norm1", "ln_1"), ("layer_norm2", "ln_2"),
                   ("mlp.fc1", "mlp.c_fc"), ("mlp.fc2", "mlp.c_proj"))


def _rename(key: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """Apply (old, new) substring renames in order."""
    for old, new in pairs:
        key = key.replace(old, new)
    return key


def _unet_key(key: str, layers: int, attention_up: set[int]) -> str:
    """One diffusers UNet key → its LDM name."""
    parts = key.split(".")
    for width in (1, 2):
        top = ".".join(parts[:width])
        if top in UNET_TOP:
            return UNET_TOP[top] + "." + ".".join(parts[width:])
    rest = ".".join(parts[4:])
    if parts[0] == "mid_block":
        index = {"resnets.0": 0, "attentions.0": 1, "resnets.1": 2}[".".join(parts[1:3])]
        return f"middle_block.{index}." + (_rename(".".join(parts[3:]), RESNET) if parts[1] == "resnets" else
                                           ".".join(parts[3:]))
    block, kind, j = int(parts[1]), parts[2], int(parts[3])
    if parts[0] == "down_blocks":
        if kind == "downsamplers":
            return f"input_blocks.{1 + block * (layers + 1) + layers}.0.op." + ".".join(parts[5:])
        slot = 0 if kind == "resnets" else 1
        return f"input_blocks.{1 + block * (layers + 1) + j}.{slot}." + (_rename(rest, RESNET) if slot == 0 else rest)
    if kind == "upsamplers":
        slot = 2 if block in attention_up else 1
        return f"output_blocks.{block * (layers + 1) + layers}.{slot}.conv." + ".".join(parts[5:])
    slot = 0 if kind == "resnets" else 1
    return f"output_blocks.{block * (layers + 1) + j}.{slot}." + (_rename(rest, RESNET) if slot == 0 else rest)


def unet_to_ldm(unet: Any) -> dict[str, Any]:
    """A UNet2DConditionModel's weights under 'model.diffusion_model.' LDM names."""
    layers = int(unet.config.layers_per_block)
    attention_up = {i for i, t in enumerate(unet.config.up_block_types) if "CrossAttn" in t}
    return {UNET + _unet_key(k, layers, attention_up): v for k, v in unet.state_dict().items()}


def _vae_key(key: str, value: Any, levels: int) -> tuple[str, Any]:
    """One diffusers VAE key → its LDM name (attention projections back to 1×1 convolutions)."""
    parts = key.split(".")
    if len(parts) > 2 and parts[1] == "mid_block":
        if parts[2] == "attentions":
            name = f"{parts[0]}.mid.attn_1." + _rename(".".join(parts[4:]), VAE_ATTN)
            return name, value[:, :, None, None] if name.endswith("weight") and value.ndim == 2 else value
        return f"{parts[0]}.mid.block_{int(parts[3]) + 1}." + ".".join(parts[4:]).replace("conv_shortcut",
                                                                                        "nin_shortcut"), value
    if len(parts) > 2 and parts[1] in ("down_blocks", "up_blocks"):
        level = int(parts[2]) if parts[1] == "down_blocks" else levels - 1 - int(parts[2])
        side = "down" if parts[1] == "down_blocks" else "up"
        if parts[3] in ("downsamplers", "upsamplers"):
            return f"{parts[0]}.{side}.{level}.{side}sample.conv." + ".".join(parts[6:]), value
        rest = ".".join(parts[5:]).replace("conv_shortcut", "nin_shortcut")
        return f"{parts[0]}.{side}.{level}.block.{parts[4]}.{rest}", value
    return key.replace("conv_norm_out", "norm_out"), value


def vae_to_ldm(vae: Any) -> dict[str, Any]:
    """An AutoencoderKL's weights under 'first_stage_model.' LDM names."""
    levels = len(vae.config.block_out_channels)
    return {VAE + name: value for name, value in (_vae_key(k, v, levels) for k, v in vae.state_dict().items())}


def _text_keys(encoder: Any) -> dict[str, Any]:
    """A CLIP text encoder's weights with the 'text_model.' prefix (transformers ≥ 5.6 drops it)."""
    state = encoder.state_dict()
    return {(k if k.startswith(("text_model.", "text_projection")) else "text_model." + k): v for k, v in state.items()}


def clip_to_ldm(encoder: Any, prefix: str) -> dict[str, Any]:
    """An OpenAI-CLIP text encoder under the WebUI's transformers-style names."""
    return {prefix + k: v for k, v in _text_keys(encoder).items() if k.startswith("text_model.")}


def open_clip_to_ldm(encoder: Any, prefix: str) -> dict[str, Any]:
    """An OpenCLIP text encoder under open_clip names (q/k/v joined into in_proj)."""
    import torch

    out: dict[str, Any] = {}
    top = {"text_model.embeddings.position_embedding.weight": "positional_embedding",
           "text_model.embeddings.token_embedding.weight": "token_embedding.weight",
           "text_model.final_layer_norm.weight": "ln_final.weight", "text_model.final_layer_norm.bias": "ln_final.bias"}
    state = _text_keys(encoder)
    for key, value in state.items():
        if key in top:
            out[prefix + top[key]] = value
        elif key == "text_projection.weight":
            out[prefix + "text_projection"] = value.T.contiguous()
        elif ".self_attn.q_proj." in key:
            kind = key.rsplit(".", 1)[1]
            stem = key.replace("text_model.encoder.layers.", "transformer.resblocks.").split(".self_attn")[0]
            qkv = [state[key.replace("q_proj", p)] for p in ("q_proj", "k_proj", "v_proj")]
            out[f"{prefix}{stem}.attn.in_proj_{kind}"] = torch.cat(qkv)
        elif ".self_attn.k_proj." not in key and ".self_attn.v_proj." not in key:
            name = _rename(key.replace("text_model.encoder.layers.", "transformer.resblocks."), OPEN_CLIP_LAYER)
            out[prefix + name] = value
    return out


def pipeline_to_ldm(pipe: Any, *, open_clip: bool | None = None) -> dict[str, Any]:
    """All of a pipeline's weights in the original single-file layout (SD1 CLIP, SD2 OpenCLIP or SDXL pair)."""
    state = {**unet_to_ldm(pipe.unet), **vae_to_ldm(pipe.vae)}
    encoder_2 = getattr(pipe, "text_encoder_2", None)
    if encoder_2 is not None:
        state.update(clip_to_ldm(pipe.text_encoder, SDXL_CLIP_L))
        state.update(open_clip_to_ldm(encoder_2, SDXL_CLIP_G))
    elif open_clip if open_clip is not None else pipe.text_encoder.config.hidden_size == 1024:
        state.update(open_clip_to_ldm(pipe.text_encoder, SD2_CLIP))
    else:
        state.update(clip_to_ldm(pipe.text_encoder, SD1_CLIP))
    return state


def save_single_file(pipe: Any, path: str | Path) -> Path:
    """Write the pipeline as one .safetensors file a WebUI (or load_model_service) can load."""
    from safetensors.torch import save_file

    target = Path(path)
    state = {k: v.detach().contiguous().cpu() for k, v in pipeline_to_ldm(pipe).items()}
    save_file(state, str(target))
    return target
