"""Tiny random-weight Depth-Anything and DPT models in a fake models folder, for tests and benchmarks.

Depth-Anything-V2 files are written by our own network (no transformers needed, so the WebUI's transformers
4.30 can make them too), as a ``-hf`` folder or as an official-layout .pth.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from deforum.depth.algorithms import DepthModelSpec, spec_for
from deforum.depth.dav2_net import DAv2Config, DepthAnythingV2

TINY_INIT_RANGE = 0.2
TINY_DAV2 = DAv2Config(hidden_size=16, num_layers=4, num_heads=2, mlp_size=32, tapped_blocks=(0, 1, 2, 3),
                       neck_sizes=(8, 8, 16, 16), fusion_size=8, head_size=8)
TINY_OFFICIAL = replace(TINY_DAV2, num_heads=1)  # an official file holds no head count: hidden // 64, at least 1


def tiny_dav2(seed: int = 0, config: DAv2Config = TINY_DAV2) -> DepthAnythingV2:
    """Our Depth-Anything-V2 network at ``config``'s sizes with random weights (normal, std 0.2; norms at 1)."""
    torch.manual_seed(seed)
    return randomize(DepthAnythingV2(config)).eval()


def randomize(model: torch.nn.Module) -> torch.nn.Module:
    """Re-draw a Depth-Anything's weights the same way under our names or transformers' (seed set by the caller).

    Biases 0, norm weights and layer scales 1, everything else normal with std 0.2: outputs that are far from
    flat whatever the library's own initialisation, so equality tests compare real depth.
    """
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("bias"):
                parameter.zero_()
            elif "norm" in name or name.endswith(("gamma", "lambda1")):
                parameter.fill_(1.0)
            else:
                parameter.normal_(0.0, TINY_INIT_RANGE)
    return model


def save_tiny_official(path: str | Path, seed: int = 0, config: DAv2Config = TINY_OFFICIAL) -> Path:
    """Write a tiny random Depth-Anything-V2 as an official-layout file (e.g. depth_anything_v2_vits.pth)."""
    from deforum.depth.dav2_weights import save_official

    return save_official(tiny_dav2(seed, config), path)


def tiny_model(model_type: str, seed: int = 0) -> torch.nn.Module:
    """A random ~60k-weight transformers Depth-Anything (``"depth_anything"``), DPT (``"dpt"``) or DPT-Hybrid model."""
    torch.manual_seed(seed)
    if model_type == "depth_anything":
        from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

        backbone = Dinov2Config(hidden_size=16, num_hidden_layers=4, num_attention_heads=2, mlp_ratio=2,
                                image_size=518, patch_size=14, out_indices=[1, 2, 3, 4],
                                reshape_hidden_states=False, initializer_range=TINY_INIT_RANGE)
        config = DepthAnythingConfig(backbone_config=backbone.to_dict(), neck_hidden_sizes=[8, 8, 16, 16],
                                     reassemble_hidden_size=16, fusion_hidden_size=8, head_hidden_size=8,
                                     initializer_range=TINY_INIT_RANGE)
        model = DepthAnythingForDepthEstimation(config)
    elif model_type in ("dpt", "dpt_hybrid"):
        from transformers import DPTConfig, DPTForDepthEstimation

        model = DPTForDepthEstimation(DPTConfig(**_tiny_dpt_options(model_type == "dpt_hybrid")))
    else:
        raise ValueError(f"no tiny model for model_type {model_type!r}")
    return model.eval()


def _tiny_dpt_options(hybrid: bool) -> dict[str, object]:
    """DPTConfig arguments of the tiny DPT, with a three-stage BiT backbone when ``hybrid``."""
    from transformers import BitConfig

    options: dict[str, object] = {
        "hidden_size": 16, "num_hidden_layers": 4, "num_attention_heads": 2, "intermediate_size": 32,
        "image_size": 384, "patch_size": 16, "backbone_out_indices": [0, 1, 2, 3],
        "neck_hidden_sizes": [8, 8, 16, 16], "fusion_hidden_size": 8, "initializer_range": TINY_INIT_RANGE,
    }
    if hybrid:
        bit = BitConfig(global_padding="same", layer_type="bottleneck", depths=[1, 1, 1], hidden_sizes=[8, 16, 32],
                        embedding_size=8, num_groups=2, out_features=["stage1", "stage2", "stage3"])
        options.update(is_hybrid=True, backbone_config=bit.to_dict(), neck_hidden_sizes=[8, 16, 16, 16],
                       backbone_featmap_shape=[1, 32, 24, 24])
    return options


def save_tiny_model(folder: str | Path, model_type: str, seed: int = 0) -> Path:
    """Write a tiny model as a transformers folder (config.json + model.safetensors); returns the folder.

    ``"depth_anything"`` is written by our own network (a ``-hf`` folder transformers can also read).
    """
    folder = Path(folder)
    if model_type == "depth_anything":
        from deforum.depth.dav2_weights import save_hf_folder

        return save_hf_folder(tiny_dav2(seed), folder)
    tiny_model(model_type, seed).save_pretrained(str(folder), safe_serialization=True)
    return folder


def tiny_models_dir(root: str | Path, algorithms: tuple[str, ...] = ("Depth-Anything-V2-Small",)) -> Path:
    """A fake WebUI ``models`` folder with a tiny model under Deforum/<repo name> for each algorithm's model."""
    root = Path(root)
    for algorithm in algorithms:
        spec: DepthModelSpec = spec_for(algorithm)
        folder = root / "Deforum" / spec.folder_names[0]
        if not (folder / "config.json").is_file():
            save_tiny_model(folder, spec.model_type)
    return root
