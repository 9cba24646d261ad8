"""Flux checkpoints (dev or schnell) offline: a diffusers Flux folder, or a single transformer file plus a base folder.

A single Flux file (Forge's models/Stable-diffusion/flux1-dev.safetensors) holds the transformer only; the T5 and
CLIP text encoders, their tokenizers, the VAE and the noise schedule come from a diffusers Flux folder found in the
models folders or the Hugging Face cache. The memory plan (`memory_plan`) is described in docs/flux.md.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Literal

from deforum.config.weights import WeightsMissing, hf_hub_cache

log = logging.getLogger(__name__)

CONFIGS = Path(__file__).resolve().parent / "configs"
FLUX_MARKERS = ("double_blocks.", "single_blocks.", "transformer_blocks.0.attn.add_q_proj")
GUIDANCE_MARKERS = ("guidance_in.", "time_text_embed.guidance_embedder.")
BASE_FOLDERS = ("FLUX.1-dev", "FLUX.1-schnell", "flux1-dev", "flux1-schnell", "Flux", "flux")
HF_REPOS = ("models--black-forest-labs--FLUX.1-dev", "models--black-forest-labs--FLUX.1-schnell")
GIB = 1024 ** 3
MemoryPlan = Literal["gpu", "fp8-offload", "sequential-offload", "cpu"]


class FluxBaseMissing(WeightsMissing):
    """A single Flux transformer file was given but no diffusers Flux folder holds its text encoders and VAE."""


def _folder_class(path: Path) -> str:
    """The pipeline class a diffusers folder's model_index.json names ('' when none)."""
    index = path / "model_index.json"
    if not index.is_file():
        return ""
    try:
        return str(json.loads(index.read_text()).get("_class_name", ""))
    except (OSError, ValueError):
        return ""


def _file_keys(path: Path) -> list[str]:
    """Tensor names of a .safetensors file, read from its header only."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return list(handle.keys())


def is_flux(path: Path) -> bool:
    """True for a diffusers Flux folder or a .safetensors file holding a Flux transformer."""
    if path.is_dir():
        return _folder_class(path).startswith("Flux")
    if not path.is_file() or path.suffix.lower() not in (".safetensors", ".sft"):
        return False
    try:
        keys = _file_keys(path)
    except Exception:  # noqa: BLE001 - an unreadable header is for the regular loader to report
        return False
    return any(marker in key for key in keys for marker in FLUX_MARKERS) and not any(
        key.startswith(("model.diffusion_model.input_blocks.", "input_blocks.")) for key in keys)


def base_candidates(models_dirs: tuple[Path, ...]) -> list[Path]:
    """Where a Flux base folder is looked for, in order."""
    places = [root / sub / name for root in models_dirs for sub in ("diffusers", "Stable-diffusion", "")
              for name in BASE_FOLDERS]
    snapshots = [hf_hub_cache() / repo / "snapshots" for repo in HF_REPOS]
    places += [snap for folder in snapshots if folder.is_dir() for snap in sorted(folder.iterdir())]
    return list(dict.fromkeys(places))


def find_flux_base(models_dirs: tuple[Path, ...], path: Path) -> Path:
    """The first diffusers Flux folder found; FluxBaseMissing naming what to put where when none is."""
    places = base_candidates(models_dirs)
    for place in places:
        if _folder_class(place).startswith("Flux"):
            return place
    shown = "\n".join(f"  {place}" for place in places[:12])
    raise FluxBaseMissing(
        f"{path} is a single Flux transformer file; its T5/CLIP text encoders, tokenizers and VAE come from a "
        f"diffusers Flux folder (black-forest-labs/FLUX.1-dev or FLUX.1-schnell with model_index.json). Put one at "
        f"{models_dirs[0] / 'diffusers' / 'FLUX.1-dev' if models_dirs else 'models/diffusers/FLUX.1-dev'}, or pass "
        f"the folder itself as --model. Searched:\n{shown}")


def _single_transformer(path: Path, dtype: Any) -> Any:
    """The Flux transformer of a single file, built from the shipped dev or schnell config."""
    from diffusers import FluxTransformer2DModel

    guided = any(marker in key for key in _file_keys(path) for marker in GUIDANCE_MARKERS)
    subfolder = "flux_dev_transformer" if guided else "flux_schnell_transformer"
    try:
        return FluxTransformer2DModel.from_single_file(str(path), config=str(CONFIGS), subfolder=subfolder,
                                                       torch_dtype=dtype, local_files_only=True)
    except (ValueError, RuntimeError, KeyError, NotImplementedError) as error:
        raise ValueError(f"{path}: the Flux transformer weights do not match the {subfolder} config ({error})") \
            from error


def load_flux_pipeline(path: Path, *, dtype: Any, models_dirs: tuple[Path, ...]) -> Any:
    """A FluxPipeline (on the CPU) from a diffusers Flux folder, or from a single transformer file + a base folder."""
    from diffusers import FluxPipeline

    base = path if path.is_dir() else find_flux_base(models_dirs, path)
    extra = {} if path.is_dir() else {"transformer": _single_transformer(path, dtype)}
    try:
        pipe = FluxPipeline.from_pretrained(str(base), torch_dtype=dtype, local_files_only=True, **extra)
    except (OSError, ValueError) as error:
        raise ValueError(f"Cannot load the Flux folder {base}: {error}") from error
    log.info("Deforum diffusers: loaded Flux %s (base %s, guidance %s)", path, base,
             bool(pipe.transformer.config.guidance_embeds))
    return pipe


def memory_plan(device: str, total_bytes: int | None) -> MemoryPlan:
    """Where Flux's weights live: all on a ≥ 40 GiB GPU; fp8 transformer + model offload from 16 GiB; else layers."""
    if device != "cuda":
        return "cpu" if device == "cpu" else "gpu"
    total = total_bytes or 0
    if total >= 40 * GIB:
        return "gpu"
    return "fp8-offload" if total >= 16 * GIB else "sequential-offload"


def place_pipeline(pipe: Any, device: Any, plan: MemoryPlan) -> Any:
    """Move or offload the pipeline's parts as the plan says (docs/flux.md)."""
    import torch

    if plan in ("gpu", "cpu"):
        return pipe.to(device)
    if plan == "fp8-offload":
        pipe.transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn,
                                                  compute_dtype=pipe.transformer.dtype)
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.enable_sequential_cpu_offload(device=device)
    log.info("Deforum diffusers: Flux memory plan %s", plan)
    return pipe
