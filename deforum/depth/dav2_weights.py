"""Depth-Anything-V2 weights from either published layout: the official .pth files or the ``-hf`` folders.

The official ``depth_anything_v2_vit{s,b,l}.pth`` is a bare state dict under our network's names; its sizes are
read from the tensors and the tapped blocks from the ViT size. A ``-hf`` folder (config.json + model.safetensors,
as transformers saves DepthAnythingForDepthEstimation) is renamed onto the same names, q/k/v fused into qkv.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import torch

from deforum.depth.dav2_net import PATCH, REASSEMBLE_FACTORS, DAv2Config, DepthAnythingV2
from deforum.models.errors import DeforumError

OFFICIAL_SIZES = {"Small": (384, 12, (48, 96, 192, 384), 64), "Base": (768, 12, (96, 192, 384, 768), 128),
                  "Large": (1024, 24, (256, 512, 1024, 1024), 256)}
OFFICIAL_TAPPED_BLOCKS = {12: (2, 5, 8, 11), 24: (4, 11, 17, 23), 40: (9, 19, 29, 39)}
HEAD_DIM = 64
IGNORED_KEYS = ("pretrained.mask_token", "backbone.embeddings.mask_token")
_QKV = ("query", "key", "value")
_NEW_QKV = {"q_proj": "query", "k_proj": "key", "v_proj": "value", "o_proj": "output.dense"}

Rename = tuple[str, str | Callable[[re.Match[str]], str]]
_HF_TO_OFFICIAL: tuple[Rename, ...] = (
    (r"backbone\.embeddings\.cls_token$", "pretrained.cls_token"),
    (r"backbone\.embeddings\.position_embeddings$", "pretrained.pos_embed"),
    (r"backbone\.embeddings\.patch_embeddings\.projection\.", "pretrained.patch_embed.proj."),
    (r"backbone\.layernorm\.", "pretrained.norm."),
    (r"backbone\.encoder\.layer\.(\d+)\.norm([12])\.", r"pretrained.blocks.\1.norm\2."),
    (r"backbone\.encoder\.layer\.(\d+)\.attention\.output\.dense\.", r"pretrained.blocks.\1.attn.proj."),
    (r"backbone\.encoder\.layer\.(\d+)\.layer_scale([12])\.lambda1$", r"pretrained.blocks.\1.ls\2.gamma"),
    (r"backbone\.encoder\.layer\.(\d+)\.mlp\.(fc[12])\.", r"pretrained.blocks.\1.mlp.\2."),
    (r"neck\.reassemble_stage\.layers\.(\d)\.projection\.", r"depth_head.projects.\1."),
    (r"neck\.reassemble_stage\.layers\.(\d)\.resize\.", r"depth_head.resize_layers.\1."),
    (r"neck\.convs\.(\d)\.", lambda m: f"depth_head.scratch.layer{int(m[1]) + 1}_rn."),
    (r"neck\.fusion_stage\.layers\.(\d)\.projection\.",
     lambda m: f"depth_head.scratch.refinenet{4 - int(m[1])}.out_conv."),
    (r"neck\.fusion_stage\.layers\.(\d)\.residual_layer(\d)\.convolution(\d)\.",
     lambda m: f"depth_head.scratch.refinenet{4 - int(m[1])}.resConfUnit{m[2]}.conv{m[3]}."),
    (r"head\.conv1\.", "depth_head.scratch.output_conv1."),
    (r"head\.conv2\.", "depth_head.scratch.output_conv2.0."),
    (r"head\.conv3\.", "depth_head.scratch.output_conv2.2."),
)
_OFFICIAL_TO_HF: tuple[Rename, ...] = (
    (r"pretrained\.cls_token$", "backbone.embeddings.cls_token"),
    (r"pretrained\.pos_embed$", "backbone.embeddings.position_embeddings"),
    (r"pretrained\.patch_embed\.proj\.", "backbone.embeddings.patch_embeddings.projection."),
    (r"pretrained\.norm\.", "backbone.layernorm."),
    (r"pretrained\.blocks\.(\d+)\.norm([12])\.", r"backbone.encoder.layer.\1.norm\2."),
    (r"pretrained\.blocks\.(\d+)\.attn\.proj\.", r"backbone.encoder.layer.\1.attention.output.dense."),
    (r"pretrained\.blocks\.(\d+)\.ls([12])\.gamma$", r"backbone.encoder.layer.\1.layer_scale\2.lambda1"),
    (r"pretrained\.blocks\.(\d+)\.mlp\.(fc[12])\.", r"backbone.encoder.layer.\1.mlp.\2."),
    (r"depth_head\.projects\.(\d)\.", r"neck.reassemble_stage.layers.\1.projection."),
    (r"depth_head\.resize_layers\.(\d)\.", r"neck.reassemble_stage.layers.\1.resize."),
    (r"depth_head\.scratch\.layer(\d)_rn\.", lambda m: f"neck.convs.{int(m[1]) - 1}."),
    (r"depth_head\.scratch\.refinenet(\d)\.out_conv\.",
     lambda m: f"neck.fusion_stage.layers.{4 - int(m[1])}.projection."),
    (r"depth_head\.scratch\.refinenet(\d)\.resConfUnit(\d)\.conv(\d)\.",
     lambda m: f"neck.fusion_stage.layers.{4 - int(m[1])}.residual_layer{m[2]}.convolution{m[3]}."),
    (r"depth_head\.scratch\.output_conv1\.", "head.conv1."),
    (r"depth_head\.scratch\.output_conv2\.0\.", "head.conv2."),
    (r"depth_head\.scratch\.output_conv2\.2\.", "head.conv3."),
)


class DAv2WeightsError(DeforumError, ValueError):
    """A Depth-Anything-V2 weights file that cannot be used; the message names the file and the problem."""


def _rename(key: str, table: tuple[Rename, ...], source: str) -> str:
    """``key`` renamed by the first matching pattern of ``table``; DAv2WeightsError when none matches."""
    for pattern, replacement in table:
        if re.match(pattern, key):
            return re.sub(pattern, replacement, key, count=1)
    raise DAv2WeightsError(f"{source}: unexpected Depth-Anything-V2 weight {key!r}")


def hf_to_official(state: Mapping[str, torch.Tensor], source: str = "state dict") -> dict[str, torch.Tensor]:
    """A ``-hf`` state dict (transformers' names, old or new attention names) under the official names."""
    renamed: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        key = re.sub(r"\.attention\.(q_proj|k_proj|v_proj|o_proj)\.",
                     lambda m: f".attention.{'' if m[1] == 'o_proj' else 'attention.'}{_NEW_QKV[m[1]]}.", key)
        if key in IGNORED_KEYS:
            continue
        qkv = re.fullmatch(r"backbone\.encoder\.layer\.(\d+)\.attention\.attention\.(query|key|value)\.(weight|bias)",
                           key)
        if qkv:
            renamed.setdefault(f"pretrained.blocks.{qkv[1]}.attn.qkv.{qkv[3]}.{qkv[2]}", tensor)
            continue
        renamed[_rename(key, _HF_TO_OFFICIAL, source)] = tensor
    for key in [k for k in renamed if k.endswith(".query")]:
        base = key[: -len(".query")]
        try:
            renamed[base] = torch.cat([renamed.pop(f"{base}.{part}") for part in _QKV])
        except KeyError as exc:
            raise DAv2WeightsError(f"{source}: {base} lacks its {exc.args[0].rsplit('.', 1)[-1]} part") from exc
    return renamed


def official_to_hf(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An official-layout state dict under the ``-hf`` names (qkv split into query, key and value)."""
    renamed: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        qkv = re.fullmatch(r"pretrained\.blocks\.(\d+)\.attn\.qkv\.(weight|bias)", key)
        if qkv:
            for part, chunk in zip(_QKV, tensor.chunk(3)):
                renamed[f"backbone.encoder.layer.{qkv[1]}.attention.attention.{part}.{qkv[2]}"] = chunk.contiguous()
        elif key not in IGNORED_KEYS:
            renamed[_rename(key, _OFFICIAL_TO_HF, "state dict")] = tensor
    return renamed


def _tapped_blocks(num_layers: int) -> tuple[int, int, int, int]:
    """The official tapped blocks of a ViT depth (S/B: 12, L: 24, G: 40), else four evenly spaced ones."""
    if num_layers in OFFICIAL_TAPPED_BLOCKS:
        return OFFICIAL_TAPPED_BLOCKS[num_layers]
    return tuple(max(num_layers * part // 4 - 1, 0) for part in (1, 2, 3, 4))  # type: ignore[return-value]


def _sizes_from_state(state: Mapping[str, torch.Tensor], source: str) -> dict[str, Any]:
    """The network sizes the tensors of an official-layout state dict imply."""
    try:
        hidden = state["pretrained.cls_token"].shape[-1]
        positions = state["pretrained.pos_embed"].shape[1] - 1
        num_layers = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("pretrained.blocks."))
        return {
            "hidden_size": hidden, "num_layers": num_layers, "position_grid": math.isqrt(positions),
            "mlp_size": state["pretrained.blocks.0.mlp.fc1.weight"].shape[0],
            "neck_sizes": tuple(state[f"depth_head.projects.{i}.weight"].shape[0] for i in range(4)),
            "fusion_size": state["depth_head.scratch.layer1_rn.weight"].shape[0],
            "head_size": state["depth_head.scratch.output_conv2.0.weight"].shape[0],
        }
    except (KeyError, ValueError, IndexError) as exc:
        raise DAv2WeightsError(f"{source}: not a Depth-Anything-V2 state dict (missing {exc})") from exc


def _hf_options(hf_config: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Heads, tapped blocks, epsilon and depth type from a ``-hf`` config.json (transformers' defaults)."""
    backbone = hf_config.get("backbone_config") or {}
    problems = []
    if backbone.get("use_swiglu_ffn") or backbone.get("hidden_act", "gelu") != "gelu":
        problems.append("a SwiGLU or non-GELU MLP")
    if tuple(hf_config.get("reassemble_factors", REASSEMBLE_FACTORS)) != REASSEMBLE_FACTORS:
        problems.append(f"reassemble_factors {hf_config['reassemble_factors']}")
    if hf_config.get("patch_size", PATCH) != PATCH or backbone.get("patch_size", PATCH) != PATCH:
        problems.append("a patch size other than 14")
    if problems:
        raise DAv2WeightsError(f"{source}: unsupported Depth-Anything-V2 config ({', '.join(problems)})")
    options: dict[str, Any] = {"layer_norm_eps": float(backbone.get("layer_norm_eps", 1e-6)),
                               "depth_type": hf_config.get("depth_estimation_type", "relative"),
                               "max_depth": float(hf_config.get("max_depth") or 1.0)}
    if backbone.get("num_attention_heads"):
        options["num_heads"] = int(backbone["num_attention_heads"])
    indices = backbone.get("out_indices") or [int(name[5:]) for name in backbone.get("out_features") or []]
    if indices:
        options["tapped_blocks"] = tuple(int(index) - 1 for index in indices)
    return options


def config_for(state: Mapping[str, torch.Tensor], hf_config: Mapping[str, Any] | None = None,
               source: str = "state dict") -> DAv2Config:
    """The DAv2Config of an official-layout state dict, refined by a ``-hf`` config.json when there is one."""
    sizes = _sizes_from_state(state, source)
    options = _hf_options(hf_config, source) if hf_config is not None else {}
    options.setdefault("num_heads", max(sizes["hidden_size"] // HEAD_DIM, 1))
    options.setdefault("tapped_blocks", _tapped_blocks(sizes["num_layers"]))
    if len(options["tapped_blocks"]) != 4:
        raise DAv2WeightsError(f"{source}: the head needs four tapped blocks, the config names "
                               f"{len(options['tapped_blocks'])}")
    return DAv2Config(**sizes, **options)


def build_model(state: Mapping[str, torch.Tensor], hf_config: Mapping[str, Any] | None = None,
                source: str = "state dict") -> DepthAnythingV2:
    """Our network with an official-layout ``state`` loaded strictly (eval mode, float32 on the CPU)."""
    model = DepthAnythingV2(config_for(state, hf_config, source))
    missing, unexpected = model.load_state_dict(dict(state), strict=False)
    if missing or unexpected:
        raise DAv2WeightsError(f"{source}: weights do not fit Depth-Anything-V2 (missing {sorted(missing)[:4]}, "
                               f"unexpected {sorted(unexpected)[:4]})")
    return model.eval()


def read_state_file(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a .safetensors, .pth/.pt/.bin file or a sharded safetensors index (CPU, no pickled code)."""
    try:
        if path.name.endswith(".index.json"):
            shards = sorted(set(json.loads(path.read_text(encoding="utf-8"))["weight_map"].values()))
            return {k: v for shard in shards for k, v in read_state_file(path.parent / shard).items()}
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        # torch.serialization.load, not torch.load: A1111 replaces torch.load with a checker that rejects files
        # saved by newer torch; weights_only=True already refuses anything but tensors and plain containers.
        state = torch.serialization.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear message
        raise DAv2WeightsError(f"{path}: could not be read as Depth-Anything-V2 weights ({exc})") from exc
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise DAv2WeightsError(f"{path}: holds a {type(state).__name__}, not a state dict")
    return state


def load_official(path: str | Path) -> DepthAnythingV2:
    """Our network from an official ``depth_anything_v2_vit{s,b,l}.pth`` file."""
    path = Path(path)
    state = {k: v for k, v in read_state_file(path).items() if k not in IGNORED_KEYS}
    if any(key.startswith("backbone.") for key in state):
        state = hf_to_official(state, str(path))
    return build_model(state, source=str(path))


def _folder_weights(folder: Path) -> Path:
    """The weights file of a ``-hf`` folder: model.safetensors, its shard index, or pytorch_model.bin."""
    for name in ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"):
        if (folder / name).is_file():
            return folder / name
    raise DAv2WeightsError(f"{folder}: no model.safetensors or pytorch_model.bin in it")


def load_hf_folder(folder: str | Path) -> DepthAnythingV2:
    """Our network from a ``Depth-Anything-V2-*-hf`` folder (config.json + weights)."""
    folder = Path(folder)
    try:
        hf_config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DAv2WeightsError(f"{folder / 'config.json'}: could not be read ({exc})") from exc
    weights = _folder_weights(folder)
    return build_model(hf_to_official(read_state_file(weights), str(weights)), hf_config, str(weights))


def hf_config_dict(config: DAv2Config) -> dict[str, Any]:
    """The config.json transformers' DepthAnythingForDepthEstimation reads for ``config``."""
    backbone = {
        "model_type": "dinov2", "hidden_size": config.hidden_size, "num_hidden_layers": config.num_layers,
        "num_attention_heads": config.num_heads, "mlp_ratio": _whole(config.mlp_size / config.hidden_size),
        "image_size": config.position_grid * PATCH, "patch_size": PATCH, "layer_norm_eps": config.layer_norm_eps,
        "out_indices": [index + 1 for index in config.tapped_blocks], "reshape_hidden_states": False,
        "apply_layernorm": True, "layerscale_value": 1.0, "use_swiglu_ffn": False, "hidden_act": "gelu",
    }
    return {
        "architectures": ["DepthAnythingForDepthEstimation"], "model_type": "depth_anything",
        "backbone_config": backbone, "patch_size": PATCH, "reassemble_hidden_size": config.hidden_size,
        "reassemble_factors": [_whole(f) for f in REASSEMBLE_FACTORS], "neck_hidden_sizes": list(config.neck_sizes),
        "fusion_hidden_size": config.fusion_size, "head_hidden_size": config.head_size, "head_in_index": -1,
        "depth_estimation_type": config.depth_type, "max_depth": _whole(config.max_depth),
    }


def _whole(value: float) -> int | float:
    """``value`` as an int when it is whole (transformers' configs type these fields as int)."""
    return int(value) if float(value).is_integer() else value


def save_hf_folder(model: DepthAnythingV2, folder: str | Path) -> Path:
    """Write ``model`` as a ``-hf`` folder (config.json + model.safetensors, transformers' names)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in official_to_hf(model.state_dict()).items()}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(hf_config_dict(model.config), indent=2), encoding="utf-8")
    return folder


def save_official(model: DepthAnythingV2, path: str | Path) -> Path:
    """Write ``model`` as an official-layout .pth state dict (what depth_anything_v2_vit*.pth holds)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = dict(model.state_dict())
    state["pretrained.mask_token"] = torch.zeros(1, model.config.hidden_size)
    torch.save(state, str(path))
    return path


def official_config(size: Literal["Small", "Base", "Large"]) -> DAv2Config:
    """The published sizes of Depth-Anything-V2 Small (ViT-S), Base (ViT-B) or Large (ViT-L)."""
    hidden, layers, neck, fusion = OFFICIAL_SIZES[size]
    return DAv2Config(hidden_size=hidden, num_layers=layers, num_heads=hidden // HEAD_DIM, mlp_size=4 * hidden,
                      tapped_blocks=OFFICIAL_TAPPED_BLOCKS[layers], neck_sizes=neck, fusion_size=fusion)
