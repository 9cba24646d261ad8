"""The original extension's MiDaS checkpoint (dpt_large-midas-2f21e586.pt) as a transformers DPT model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from deforum.models.errors import DeforumError

DPT_LARGE_CONFIG: dict[str, Any] = {
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
    "image_size": 384,
    "patch_size": 16,
    "backbone_out_indices": [5, 11, 17, 23],
    "neck_hidden_sizes": [256, 512, 1024, 1024],
    "fusion_hidden_size": 256,
    "readout_type": "project",
    "reassemble_factors": [4, 2, 1, 0.5],
    "layer_norm_eps": 1e-6,
    "qkv_bias": True,
    "is_hybrid": False,
    "head_in_index": -1,
}
IGNORED_PREFIXES = ("pretrained.model.head.", "pretrained.model.pre_logits.")

_BLOCK_PARTS = {
    "norm1": "layernorm_before", "norm2": "layernorm_after", "attn.proj": "attention.output.dense",
    "mlp.fc1": "intermediate.dense", "mlp.fc2": "output.dense",
}
_FUSION_PARTS = {
    "out_conv": "projection",
    "resConfUnit1.conv1": "residual_layer1.convolution1", "resConfUnit1.conv2": "residual_layer1.convolution2",
    "resConfUnit2.conv1": "residual_layer2.convolution1", "resConfUnit2.conv2": "residual_layer2.convolution2",
}
_FIXED = {
    "pretrained.model.cls_token": "dpt.embeddings.cls_token",
    "pretrained.model.pos_embed": "dpt.embeddings.position_embeddings",
    "pretrained.model.patch_embed.proj.weight": "dpt.embeddings.patch_embeddings.projection.weight",
    "pretrained.model.patch_embed.proj.bias": "dpt.embeddings.patch_embeddings.projection.bias",
    "pretrained.model.norm.weight": "dpt.layernorm.weight",
    "pretrained.model.norm.bias": "dpt.layernorm.bias",
}
_PATTERNS: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"pretrained\.model\.blocks\.(\d+)\.(norm1|norm2|attn\.proj|mlp\.fc1|mlp\.fc2)\.(weight|bias)"),
     lambda m: f"dpt.encoder.layer.{m[1]}.{_BLOCK_PARTS[m[2]]}.{m[3]}"),
    (re.compile(r"pretrained\.act_postprocess(\d)\.0\.project\.0\.(weight|bias)"),
     lambda m: f"neck.reassemble_stage.readout_projects.{int(m[1]) - 1}.0.{m[2]}"),
    (re.compile(r"pretrained\.act_postprocess(\d)\.3\.(weight|bias)"),
     lambda m: f"neck.reassemble_stage.layers.{int(m[1]) - 1}.projection.{m[2]}"),
    (re.compile(r"pretrained\.act_postprocess(\d)\.4\.(weight|bias)"),
     lambda m: f"neck.reassemble_stage.layers.{int(m[1]) - 1}.resize.{m[2]}"),
    (re.compile(r"scratch\.layer(\d)_rn\.weight"), lambda m: f"neck.convs.{int(m[1]) - 1}.weight"),
    (re.compile(r"scratch\.refinenet(\d)\.(out_conv|resConfUnit[12]\.conv[12])\.(weight|bias)"),
     lambda m: f"neck.fusion_stage.layers.{4 - int(m[1])}.{_FUSION_PARTS[m[2]]}.{m[3]}"),
    (re.compile(r"scratch\.output_conv\.([024])\.(weight|bias)"), lambda m: f"head.head.{m[1]}.{m[2]}"),
)
_QKV = re.compile(r"pretrained\.model\.blocks\.(\d+)\.attn\.qkv\.(weight|bias)")


class MidasConversionError(DeforumError, ValueError):
    """The file is not the DPT-Large MiDaS checkpoint this converter understands."""


def rename_key(key: str) -> str | None:
    """The transformers DPT name of one MiDaS key (None for the qkv tensors, which are split separately)."""
    if key in _FIXED:
        return _FIXED[key]
    for pattern, build in _PATTERNS:
        match = pattern.fullmatch(key)
        if match:
            return build(match)
    return None


def convert_state_dict(original: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a MiDaS DPT-Large state dict to transformers' DPTForDepthEstimation names (qkv split in three)."""
    converted: dict[str, torch.Tensor] = {}
    unknown: list[str] = []
    for key, tensor in original.items():
        if key.startswith(IGNORED_PREFIXES):
            continue
        qkv = _QKV.fullmatch(key)
        if qkv:
            prefix = f"dpt.encoder.layer.{qkv[1]}.attention.attention"
            for name, part in zip(("query", "key", "value"), tensor.chunk(3, dim=0)):
                converted[f"{prefix}.{name}.{qkv[2]}"] = part.clone()
            continue
        new = rename_key(key)
        if new is None:
            unknown.append(key)
        else:
            converted[new] = tensor
    if unknown:
        raise MidasConversionError(f"unexpected MiDaS keys (not a DPT-Large checkpoint?): {unknown[:5]}")
    return converted


def read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """The state dict inside an original MiDaS .pt file (tensors only, loaded without unpickling code)."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a corrupt or unsafe pickle
        raise MidasConversionError(f"{path} could not be read as a weights-only checkpoint ({exc})") from exc
    if isinstance(data, dict) and "model" in data and "optimizer" in data:
        data = data["model"]
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise MidasConversionError(f"{path} does not hold a MiDaS state dict")
    return data


def load_original_midas(path: Path, config: dict[str, Any] | None = None) -> torch.nn.Module:
    """Build transformers' DPTForDepthEstimation (DPT-Large unless ``config`` says) from a MiDaS checkpoint file."""
    from transformers import DPTConfig, DPTForDepthEstimation

    state = convert_state_dict(read_checkpoint(path))
    with torch.device("meta"):
        model = DPTForDepthEstimation(DPTConfig(**(config or DPT_LARGE_CONFIG)))
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        raise MidasConversionError(f"{path} does not match the DPT-Large layout: {exc}") from exc
    return model.eval()
