"""Loading WebUI checkpoints offline: single-file SD 1.x/2.x/XL with the configs shipped here, or diffusers folders."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deforum.integrations.diffusers.parts import ModelParts, parts_from_pipeline, upcast_vae
from deforum.integrations.diffusers.tokenizer import find_or_download_tokenizer, load_clip_tokenizer

log = logging.getLogger(__name__)

CONFIGS = Path(__file__).resolve().parent / "configs"
SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin")
EXPECTED = ("a Stable Diffusion checkpoint file (.safetensors or .ckpt: SD 1.x, SD 2.x, SDXL, or their inpainting "
            "variants) or a diffusers model folder (with model_index.json)")
UNET = "model.diffusion_model."
UNET_IN = UNET + "input_blocks.0.0.weight"
SD1_CLIP = "cond_stage_model.transformer."
SD2_CLIP = "cond_stage_model.model.ln_final.weight"
SDXL_CLIP_G = "conditioner.embedders.1.model.ln_final.weight"
REFINER_CLIP = "conditioner.embedders.0.model.ln_final.weight"
UNSUPPORTED = (("x_embedder.proj.weight", "SD3"), ("joint_blocks.", "SD3"), ("double_blocks.", "Flux"),
               ("depth_model.", "SD2 depth-to-image"), ("embedder.model.", "SD2 unCLIP"))


@dataclass(frozen=True)
class Layout:
    """Config subfolders for one model family: UNet, VAE, and (class, subfolder, pad token) per text encoder."""

    family: str
    unet: str
    vae: str
    encoders: tuple[tuple[str, str, str | None], ...]


LAYOUTS = {
    "sd1": Layout("sd1", "unet_sd1", "vae", (("CLIPTextModel", "clip_l", None),)),
    "sd2": Layout("sd2", "unet_sd2", "vae", (("CLIPTextModel", "clip_h", "!"),)),
    "sdxl": Layout("sdxl", "unet_sdxl", "vae_sdxl",
                   (("CLIPTextModel", "clip_l", None), ("CLIPTextModelWithProjection", "clip_g", "!"))),
}


@dataclass(frozen=True)
class CheckpointKind:
    """What a single-file checkpoint is: family, UNet input channels, prediction type (None: probe it)."""

    family: str
    in_channels: int
    prediction: str | None = "epsilon"
    zero_snr: bool = False


def _missing(path: Path) -> FileNotFoundError:
    """The error for a checkpoint path that is not there."""
    return FileNotFoundError(f"Model checkpoint not found: {path}. Expected {EXPECTED}.")


def read_state_dict(path: Path) -> dict[str, Any]:
    """The tensors of a .safetensors/.ckpt file (a nested 'state_dict' unwrapped), with errors naming the file."""
    import torch

    if not path.is_file():
        raise _missing(path)
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"Cannot read model checkpoint {path}: {error}. Expected {EXPECTED}; a .ckpt holding "
                         "Python objects besides tensors cannot be read safely, convert it to .safetensors.") from error
    while isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path} holds no state dict. Expected {EXPECTED}.")
    return state


def _v_from_yaml(path: Path) -> str | None:
    """Prediction type from a WebUI-style '<checkpoint>.yaml' next to the file (parameterization: "v")."""
    yaml = path.with_suffix(".yaml")
    if not yaml.is_file():
        return None
    v = re.search(r"^\s*parameterization:\s*['\"]?v['\"]?\s*$", yaml.read_text(errors="replace"), re.MULTILINE)
    return "v_prediction" if v else "epsilon"


def detect_kind(state: dict[str, Any], path: Path) -> CheckpointKind:
    """Family, inpainting channels and prediction type of a checkpoint, or a ValueError for what is unsupported."""
    for marker, name in UNSUPPORTED:
        if any(marker in key for key in state if key.startswith((marker, UNET + marker))):
            flux = " (a Flux model renders as --model; checkpoint_schedule cannot switch to it)"
            raise ValueError(f"{path} is a {name} checkpoint, which the Stable Diffusion loader does not support"
                             f"{flux if name == 'Flux' else ''}. Expected {EXPECTED}.")
    if UNET_IN not in state:
        raise ValueError(f"{path} has no Stable Diffusion UNet (is it a LoRA, VAE or embedding?). Expected {EXPECTED}.")
    channels = int(state[UNET_IN].shape[1])
    if channels not in (4, 9):
        raise ValueError(f"{path}: a UNet with {channels} input channels (instruct-pix2pix?) is not supported.")
    yaml_prediction = _v_from_yaml(path)
    if SDXL_CLIP_G in state:
        v_pred = "v_pred" in state or yaml_prediction == "v_prediction"
        return CheckpointKind("sdxl", channels, "v_prediction" if v_pred else "epsilon", "ztsnr" in state)
    if REFINER_CLIP in state:
        raise ValueError(f"{path} is an SDXL refiner, which is not supported on its own. Expected {EXPECTED}.")
    if SD2_CLIP in state:
        return CheckpointKind("sd2", channels, yaml_prediction or ("epsilon" if channels == 9 else None))
    if any(key.startswith(SD1_CLIP) for key in state):
        return CheckpointKind("sd1", channels, yaml_prediction or "epsilon")
    raise ValueError(f"{path} has no recognised text encoder. Expected {EXPECTED}.")


def _normalise_clip_keys(state: dict[str, Any]) -> None:
    """Old SD1 files keep CLIP under 'transformer.embeddings…'; diffusers wants 'transformer.text_model.…'."""
    for key in [k for k in state if k.startswith(SD1_CLIP) and not k.startswith(SD1_CLIP + "text_model.")]:
        state[SD1_CLIP + "text_model." + key[len(SD1_CLIP):]] = state.pop(key)


@contextmanager
def _mismatch(component: str, path: Path, layout: str) -> Iterator[None]:
    """Turn diffusers' conversion failures (missing or misshapen weights) into an error naming the file."""
    try:
        yield
    except (NotImplementedError, RuntimeError, KeyError, ValueError) as error:
        raise ValueError(f"{path}: the {component} weights do not match the {layout} configs ({error}).") from error


def _check_loaded(model: Any, component: str, path: Path, layout: str) -> Any:
    """Fail clearly when the checkpoint left weights of a component unset (a layout mismatch)."""
    missing = [name for name, p in model.named_parameters() if p.device.type == "meta"]
    if missing:
        raise ValueError(f"{path}: the {component} weights do not match the {layout} configs "
                         f"({len(missing)} missing, e.g. {', '.join(missing[:3])}).")
    return model


def _config_layout(kind: CheckpointKind, config_dir: Path | None) -> tuple[Path, Layout]:
    """The config root and subfolders: the shipped family configs, or a diffusers-layout folder given by the user."""
    if config_dir is None:
        return CONFIGS, LAYOUTS[kind.family]
    shipped = LAYOUTS[kind.family]
    names = ("text_encoder", "text_encoder_2")
    encoders = tuple((cls, names[i], pad) for i, (cls, _, pad) in enumerate(shipped.encoders))
    return config_dir, Layout(kind.family, "unet", "vae", encoders)


def _scheduler_config(root: Path, kind: CheckpointKind) -> dict[str, Any]:
    """The noise-schedule config with the checkpoint's prediction type."""
    folder = root / "scheduler" if (root / "scheduler" / "scheduler_config.json").is_file() else CONFIGS / "scheduler"
    config = json.loads((folder / "scheduler_config.json").read_text())
    config["prediction_type"] = kind.prediction or "epsilon"
    if kind.zero_snr:
        config["rescale_betas_zero_snr"] = True
    return {k: v for k, v in config.items() if not k.startswith("_")}


def _load_unet_vae(state: dict, root: Path, layout: Layout, kind: CheckpointKind, path: Path) -> tuple[Any, Any]:
    """UNet and VAE converted from the LDM layout by diffusers, built from the configs (checkpoint dtype)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel

    common = {"config": str(root), "local_files_only": True}
    with _mismatch("UNet", path, layout.family):
        unet = UNet2DConditionModel.from_single_file(state, subfolder=layout.unet, in_channels=kind.in_channels,
                                                     **common)
    with _mismatch("VAE", path, layout.family):
        vae = AutoencoderKL.from_single_file(state, subfolder=layout.vae, **common)
    return _check_loaded(unet, "UNet", path, layout.family), _check_loaded(vae, "VAE", path, layout.family)


def _load_text(state: dict, root: Path, layout: Layout, path: Path, tokenizer_source: Path) -> tuple:
    """Text encoders (diffusers' CLIP/OpenCLIP conversion) and their tokenizers."""
    import transformers
    from diffusers.loaders.single_file_utils import create_diffusers_clip_model_from_ldm

    encoders, tokenizers = [], []
    for cls_name, subfolder, pad in layout.encoders:
        with _mismatch("text encoder", path, layout.family):
            model = create_diffusers_clip_model_from_ldm(getattr(transformers, cls_name), state, subfolder=subfolder,
                                                         config=str(root), local_files_only=True)
        encoders.append(_check_loaded(model, "text encoder", path, layout.family))
        tokenizers.append(load_clip_tokenizer(tokenizer_source, pad))
    return tuple(encoders), tuple(tokenizers)


def probe_v_prediction(unet: Any) -> bool:
    """The WebUI's SD2 test: a v-model's output at t=999 on a flat 0.5 input sits far below its input."""
    import torch

    dim = int(unet.config.cross_attention_dim)
    x = torch.full((1, unet.config.in_channels, 8, 8), 0.5, device=unet.device, dtype=unet.dtype)
    context = torch.full((1, 2, dim), 0.5, device=unet.device, dtype=unet.dtype)
    with torch.inference_mode():
        out = unet(x, torch.tensor([999], device=unet.device), encoder_hidden_states=context).sample
    return float((out.float() - x.float()).mean()) < -1.0


def load_single_file(path: Path, *, device: Any, dtype: Any, tokenizer_source: Path,
                     config_dir: Path | None = None) -> ModelParts:
    """ModelParts from a single-file checkpoint, all configs local (shipped, or `config_dir` in diffusers layout)."""
    import torch

    state = read_state_dict(path)
    kind = detect_kind(state, path)
    _normalise_clip_keys(state)
    root, layout = _config_layout(kind, config_dir)
    unet, vae = _load_unet_vae(state, root, layout, kind, path)
    encoders, tokenizers = _load_text(state, root, layout, path, tokenizer_source)
    del state
    for model in (unet, vae, *encoders):
        torch.nn.Module.to(model, device=device, dtype=dtype)
    if kind.prediction is None:
        kind = CheckpointKind(kind.family, kind.in_channels, "v_prediction" if probe_v_prediction(unet) else "epsilon")
    log.info("Deforum diffusers: loaded %s as %s (%s, %d input channels)", path, kind.family, kind.prediction,
             kind.in_channels)
    sdxl = kind.family == "sdxl"
    return ModelParts(unet=unet, vae=upcast_vae(vae, sdxl), tokenizers=tokenizers, text_encoders=encoders,
                      scheduler_config=_scheduler_config(root, kind), name=path.name, sdxl=sdxl)


def load_folder(path: Path, *, device: Any, dtype: Any, tokenizer_source: Path | None) -> ModelParts:
    """ModelParts from a diffusers model folder (model_index.json), read offline."""
    from diffusers import DiffusionPipeline

    index = json.loads((path / "model_index.json").read_text())
    kwargs: dict[str, Any] = {"dtype": dtype, "local_files_only": True}
    if "safety_checker" in index:
        kwargs.update(safety_checker=None, feature_extractor=None)
    if tokenizer_source is not None and "tokenizer" in index and not (path / "tokenizer").is_dir():
        kwargs["tokenizer"] = load_clip_tokenizer(tokenizer_source)
    try:
        pipe = DiffusionPipeline.from_pretrained(str(path), **kwargs)
    except Exception as error:
        raise ValueError(f"Cannot load the diffusers folder {path}: {error}. Expected {EXPECTED}.") from error
    pipe.to(device)
    return parts_from_pipeline(pipe, name=path.name)


def default_models_dir(path: Path) -> Path:
    """The WebUI 'models' folder for a checkpoint under models/Stable-diffusion/, else the checkpoint's folder."""
    for folder in path.parents:
        if folder.name.lower() == "stable-diffusion":
            return folder.parent
    return path.parent


def load_parts(path: Path, *, device: Any, dtype: Any, models_dir: Path, tokenizer_dir: str | None = None,
               config_dir: Path | None = None) -> ModelParts:
    """Load a checkpoint file or diffusers folder, finding its tokenizer on disk."""
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise ValueError(f"{path} is a folder without model_index.json. Expected {EXPECTED}.")
        has_own = (path / "tokenizer").is_dir()
        source = None if has_own else find_or_download_tokenizer(tokenizer_dir, models_dir, path)
        return load_folder(path, device=device, dtype=dtype, tokenizer_source=source)
    if not path.exists():
        raise _missing(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(f"{path} is not a checkpoint file ({', '.join(SUFFIXES)}). Expected {EXPECTED}.")
    source = find_or_download_tokenizer(tokenizer_dir, models_dir, config_dir)
    return load_single_file(path, device=device, dtype=dtype, tokenizer_source=source, config_dir=config_dir)


def resolve_checkpoint(name: str, search_dirs: list[Path]) -> Path:
    """A checkpoint name from a schedule ('model.safetensors', 'sub/model', 'model [hash]', a path) → its path."""
    text = re.sub(r"\s*\[[0-9a-fA-F]{8,10}\]$", "", name.strip().strip("\"'")).replace("\\", "/")
    direct = Path(text).expanduser()
    if direct.is_absolute() and direct.exists():
        return direct
    for folder in search_dirs:
        if (folder / text).exists():
            return folder / text
    for folder in search_dirs:
        for candidate in sorted(folder.rglob("*")) if folder.is_dir() else ():
            relative = candidate.relative_to(folder).as_posix()
            if candidate.suffix.lower() in SUFFIXES and text in (candidate.name, candidate.stem, relative,
                                                                  relative.rsplit(".", 1)[0]):
                return candidate
    raise FileNotFoundError(f"Checkpoint {name!r} not found in {', '.join(map(str, search_dirs))}. "
                            f"Expected {EXPECTED}.")
