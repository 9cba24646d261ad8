"""Diffusers ControlNet models from the WebUI's models/ControlNet folder, loaded offline and kept per file."""

from __future__ import annotations

import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from deforum.integrations.diffusers.control_images import control_image
from deforum.integrations.diffusers.sampling import ControlStep
from deforum.integrations.features.controlnet import ControlNetError
from deforum.models.generation import ControlNetUnit

log = logging.getLogger(__name__)

FOLDER_NAME = "ControlNet"
SUFFIXES = (".safetensors", ".pth", ".ckpt", ".pt", ".bin")
_HASH = re.compile(r"\s*\[[0-9a-fA-F]{8,10}\]$")
EXPECTED = ("a diffusers ControlNet: a folder with config.json (ControlNetModel) and its weights, or a single "
            ".safetensors/.pth file matching the loaded checkpoint's family")
# control_mode -> (soft injection: deeper blocks weigh more, cond only: the unconditional pass gets no control),
# as the ControlNet extension applies its three modes.
CONTROL_MODES = {"Balanced": (False, False), "My prompt is more important": (True, False),
                 "ControlNet is more important": (True, True)}
# UNet config entries a ControlNet of the same family shares (diffusers' ControlNetModel.from_unet copies these).
SHARED_CONFIG = (
    "flip_sin_to_cos", "freq_shift", "down_block_types", "only_cross_attention", "block_out_channels",
    "layers_per_block", "downsample_padding", "mid_block_scale_factor", "act_fn", "norm_num_groups", "norm_eps",
    "cross_attention_dim", "transformer_layers_per_block", "encoder_hid_dim", "encoder_hid_dim_type",
    "attention_head_dim", "num_attention_heads", "use_linear_projection", "class_embed_type", "addition_embed_type",
    "addition_time_embed_dim", "num_class_embeds", "upcast_attention", "resnet_time_scale_shift",
    "projection_class_embeddings_input_dim", "mid_block_type",
)


def _unit_error(unit: ControlNetUnit, message: str) -> ControlNetError:
    """An error naming the unit and its model setting."""
    return ControlNetError(f"ControlNet unit {unit.number} (setting 'cn_{unit.number}_model'): {message}")


def resolve_controlnet(unit: ControlNetUnit, folder: Path | None) -> Path:
    """The file or diffusers folder of the unit's model ('name [hash]' as the WebUI lists it, a name, or a path)."""
    text = _HASH.sub("", unit.model.strip().strip("\"'")).replace("\\", "/")
    if not text or text.lower() == "none":
        raise _unit_error(unit, "no model is selected. Choose a ControlNet model.")
    direct = Path(text).expanduser()
    if direct.is_absolute() and direct.exists():
        return direct
    if folder is None or not folder.is_dir():
        raise _unit_error(unit, f"model {unit.model!r} needs the ControlNet models folder {folder}, which does not "
                                f"exist. Put {EXPECTED} there.")
    for candidate in sorted(folder.rglob("*")):
        relative = candidate.relative_to(folder).as_posix()
        names = {candidate.name, relative}
        if candidate.is_file() and candidate.suffix.lower() in SUFFIXES:
            names |= {candidate.stem, relative.rsplit(".", 1)[0]}
        elif not (candidate.is_dir() and (candidate / "config.json").is_file()):
            continue
        if text in names:
            return candidate
    raise _unit_error(unit, f"model {unit.model!r} not found in {folder}. Expected {EXPECTED}.")


def controlnet_config(unet: Any, latent_channels: int = 4) -> dict[str, Any]:
    """A ControlNetModel config matching a UNet (for single files, whose config is not stored with them)."""
    config = {key: unet.config[key] for key in SHARED_CONFIG if key in unet.config}
    return {"_class_name": "ControlNetModel", "in_channels": latent_channels, **config}


def _from_folder(path: Path, dtype: Any) -> Any:
    """A diffusers ControlNet folder (config.json names ControlNetModel)."""
    from diffusers import ControlNetModel

    config = json.loads((path / "config.json").read_text())
    if config.get("_class_name") != "ControlNetModel":
        raise ValueError(f"config.json describes a {config.get('_class_name')!r}, not a ControlNetModel")
    return ControlNetModel.from_pretrained(str(path), local_files_only=True, torch_dtype=dtype)


def _from_file(path: Path, unet: Any, latent_channels: int, dtype: Any) -> Any:
    """A single-file ControlNet (diffusers or original layout) with a config derived from the loaded UNet."""
    from diffusers import ControlNetModel

    with tempfile.TemporaryDirectory(prefix="deforum-controlnet-") as folder:
        (Path(folder) / "config.json").write_text(json.dumps(controlnet_config(unet, latent_channels)))
        return ControlNetModel.from_single_file(str(path), config=folder, local_files_only=True, torch_dtype=dtype)


def load_controlnet(unit: ControlNetUnit, path: Path, parts: Any) -> Any:
    """The ControlNet at `path` on the model's device and dtype, or an error naming the unit and the file."""
    try:
        model = _from_folder(path, parts.dtype) if path.is_dir() else \
            _from_file(path, parts.unet, parts.latent_channels, parts.dtype)
    except (OSError, ValueError, KeyError, RuntimeError, TypeError, AttributeError) as err:
        raise _unit_error(unit, f"{path} is not a ControlNet this service can load ({err}). "
                                f"Expected {EXPECTED}.") from None
    if any(p.device.type == "meta" for p in model.parameters()):
        raise _unit_error(unit, f"{path} left weights unset: it does not match the loaded checkpoint's family.")
    log.info("Deforum diffusers: loaded ControlNet %s for unit %d", path, unit.number)
    return model.to(parts.device).eval()


class ControlNetModels:
    """The ControlNet models of a service, loaded once per file from its models/ControlNet folder."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._paths: dict[str, Path] = {}
        self._loaded: dict[Path, Any] = {}

    def clear(self) -> None:
        """Forget loaded models (the checkpoint changed)."""
        self._loaded.clear()

    def model(self, unit: ControlNetUnit, parts: Any) -> Any:
        """The unit's model, found once per name and loaded on first use."""
        path = self._paths.get(unit.model)
        if path is None:
            path = self._paths[unit.model] = resolve_controlnet(unit, self.folder).resolve()
        if path not in self._loaded:
            self._loaded[path] = load_controlnet(unit, path, parts)
        return self._loaded[path]

    def steps(self, units: tuple[ControlNetUnit, ...], parts: Any, width: int, height: int) -> tuple[ControlStep, ...]:
        """The units as denoising-loop ControlNet steps (units with weight 0 are left out)."""
        steps = []
        for unit in units:
            if unit.weight == 0:
                continue
            soft, cond_only = CONTROL_MODES.get(unit.control_mode, (False, False))
            image = _tensor(control_image(unit, width, height), parts)
            steps.append(ControlStep(self.model(unit, parts), image, float(unit.weight), float(unit.guidance_start),
                                     float(unit.guidance_end), soft=soft, cond_only=cond_only))
        return tuple(steps)


def _tensor(image: np.ndarray, parts: Any) -> Any:
    """An RGB uint8 image as a 1×3×H×W tensor in [0, 1] on the model's device and dtype."""
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255.0
    return tensor.to(parts.device, parts.dtype)
