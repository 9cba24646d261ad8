"""LoRA as A1111 prompts write it: `<lora:name:weight>` tags, files from models/Lora, weights switched per frame.

Each file is read and injected once (diffusers converts kohya and diffusers layouts, PEFT holds the layers); a frame
then only sets the adapters' scales, so a weight written as backtick maths changes every frame without reloading.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deforum.config.weights import WeightsMissing, find_named_file, models_roots

log = logging.getLogger(__name__)

LORA_FOLDERS = ("Lora", "LyCORIS")
LORA_SUFFIXES = (".safetensors", ".pt", ".ckpt")
_TAG = re.compile(r"<(?:lora|lyco):([^>]*)>", re.IGNORECASE)
_TAG_NAME = re.compile(r"<(?:lora|lyco):([^:>]*)", re.IGNORECASE)
TEXT_MODULES = (".q_proj", ".k_proj", ".v_proj", ".out_proj", ".fc1", ".fc2")


class LoraNotFound(WeightsMissing):
    """A `<lora:name>` tag names a file that is in none of the LoRA folders."""


@dataclass(frozen=True)
class LoraUse:
    """One LoRA of a frame's prompt: its name and text-encoder / UNet multipliers."""

    name: str
    te: float
    unet: float


def _number(text: str, tag: str) -> float:
    """A tag's multiplier, or a ValueError naming the tag."""
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"LoRA tag {tag!r}: {text!r} is not a number (write <lora:name:0.8>, or a backtick "
                         "expression such as <lora:name:`t/100`>)") from None


def _parse_tag(body: str) -> LoraUse:
    """`name[:te[:unet]]` with A1111's named `te=`/`unet=` (`dyn=` is ignored); unet defaults to te."""
    tag = f"<lora:{body}>"
    items = [item.strip() for item in body.split(":")]
    named = dict(item.split("=", 1) for item in items[1:] if "=" in item)
    positional = [item for item in items[1:] if "=" not in item]
    if not items[0]:
        raise ValueError(f"LoRA tag {tag!r} has no name (write <lora:name:0.8>)")
    te = _number(named.get("te", positional[0] if positional else "1"), tag)
    unet = _number(named.get("unet", positional[1] if len(positional) > 1 else str(te)), tag)
    return LoraUse(items[0], te, unet)


def split_lora_tags(prompt: str) -> tuple[str, tuple[LoraUse, ...]]:
    """The prompt without its LoRA tags, and the LoRAs it names (one name's repeated tags add up, as in A1111)."""
    uses: dict[str, LoraUse] = {}
    for body in _TAG.findall(prompt):
        use = _parse_tag(body)
        old = uses.get(use.name)
        uses[use.name] = use if old is None else LoraUse(use.name, old.te + use.te, old.unet + use.unet)
    return _TAG.sub("", prompt), tuple(uses.values())


def lora_folders(models_dirs: tuple[Path, ...] = (), models_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Folders searched for LoRA files: Lora/ and LyCORIS/ below the service's and the configured models folders."""
    roots = dict.fromkeys([*models_dirs, *models_roots(models_dir)])
    return [root / sub for root in roots for sub in LORA_FOLDERS]


def find_lora(name: str, folders: list[Path], *, prompt: str, frame: int) -> Path:
    """The file of a `<lora:name>` tag, or LoraNotFound naming the prompt, the frame and the folders searched."""
    path = find_named_file(name, folders, LORA_SUFFIXES)
    if path is None:
        shown = "\n".join(f"  {folder}" for folder in folders)
        raise LoraNotFound(f"LoRA {name!r} (frame {frame}, prompt {prompt!r}) was not found. Put {name}.safetensors "
                           f"in the WebUI's models/Lora folder (or pass --models-dir). Searched:\n{shown}")
    return path


def check_prompt_loras(prompts: Mapping[str, str], folders: list[Path]) -> None:
    """Stop before rendering when a prompt (by its setting key) names a LoRA that is in none of the folders."""
    missing = [(where, name.strip()) for where, text in prompts.items() for name in _TAG_NAME.findall(text)
               if find_named_file(name.strip(), folders, LORA_SUFFIXES) is None]
    if not missing:
        return
    named = "; ".join(f"{name!r} in {where}" for where, name in missing)
    shown = "\n".join(f"  {folder}" for folder in folders)
    raise LoraNotFound(f"LoRA not found: {named}. Put each as <name>.safetensors in the WebUI's models/Lora folder "
                       f"(or pass --models-dir), or remove the tag. Searched:\n{shown}")


def _state_and_alphas(path: Path, sdxl: bool) -> tuple[dict, dict | None]:
    """A LoRA file in diffusers' layout (kohya keys converted) and its network alphas."""
    from diffusers.loaders import StableDiffusionLoraLoaderMixin, StableDiffusionXLLoraLoaderMixin

    from deforum.integrations.diffusers.loading import read_state_dict

    mixin = StableDiffusionXLLoraLoaderMixin if sdxl else StableDiffusionLoraLoaderMixin
    try:
        state, alphas = mixin.lora_state_dict(read_state_dict(path))
    except (KeyError, ValueError, RuntimeError) as error:
        raise ValueError(f"LoRA {path} cannot be read as a kohya or diffusers LoRA: {error}") from error
    if not state or not all("lora" in key for key in state):
        raise ValueError(f"LoRA {path} holds no LoRA weights (is it a checkpoint or an embedding?)")
    return state, alphas


@contextmanager
def _quiet_peft() -> Iterator[None]:
    """Silence PEFT's warning that a second adapter joins a model (several LoRAs at once are intended here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Already found a `peft_config`", UserWarning)
        yield


def _inject_text_encoder(state: dict, alphas: dict | None, encoder: Any, prefix: str, adapter: str) -> bool:
    """Add one LoRA's layers for one text encoder with PEFT (as diffusers does, without transformers' adapter API)."""
    from diffusers.utils import convert_state_dict_to_diffusers, convert_state_dict_to_peft
    from diffusers.utils.peft_utils import _create_lora_config
    from peft import inject_adapter_in_model, set_peft_model_state_dict

    own = {k.removeprefix(prefix + "."): v for k, v in state.items() if k.startswith(prefix + ".")}
    if not own:
        return False
    own = convert_state_dict_to_peft(convert_state_dict_to_diffusers(own))
    if not hasattr(encoder, "text_model"):
        own = {k.removeprefix("text_model."): v for k, v in own.items()}
    ranks = {f"{name}.lora_B.weight": own[f"{name}.lora_B.weight"].shape[1]
             for name, _ in encoder.named_modules()
             if name.endswith(TEXT_MODULES) and f"{name}.lora_B.weight" in own}
    if alphas is not None:
        alphas = {k.removeprefix(prefix + "."): v for k, v in alphas.items() if k.split(".")[0] == prefix}
    config = _create_lora_config(own, alphas, None, ranks, is_unet=False)
    with _quiet_peft():
        inject_adapter_in_model(config, encoder, adapter_name=adapter)
    result = set_peft_model_state_dict(encoder, own, adapter_name=adapter)
    unexpected = getattr(result, "unexpected_keys", None)
    if unexpected:
        raise ValueError(f"LoRA weights for {prefix} do not fit it ({len(unexpected)} unexpected, e.g. "
                         f"{unexpected[0]})")
    encoder.to(device=encoder.device, dtype=encoder.dtype)
    return True


class LoraAdapters:
    """The LoRAs loaded into one model; `apply` sets this frame's weights (absent LoRAs get weight 0)."""

    def __init__(self, parts: Any, folders: list[Path]) -> None:
        self.parts, self.folders = parts, folders
        self._adapters: dict[str, str] = {}
        self._parts_of: dict[str, tuple[bool, ...]] = {}
        self._weights: dict[str, tuple[float, float]] = {}

    @property
    def loaded(self) -> tuple[str, ...]:
        """Names of the LoRAs injected so far."""
        return tuple(self._adapters)

    def apply(self, uses: tuple[LoraUse, ...], *, prompt: str, frame: int) -> bool:
        """Load unseen LoRAs, set every adapter's weight for this frame; True when text-encoder weights changed."""
        for use in uses:
            if use.name not in self._adapters:
                self._load(use.name, prompt, frame)
        wanted = {use.name: (use.te, use.unet) for use in uses}
        weights = {name: wanted.get(name, (0.0, 0.0)) for name in self._adapters}
        if weights == self._weights:
            return False
        te_changed = {n: w[0] for n, w in weights.items()} != {n: w[0] for n, w in self._weights.items()}
        self._set(weights)
        self._weights = weights
        return te_changed

    def _load(self, name: str, prompt: str, frame: int) -> None:
        """Find the file and inject its layers into the UNet and text encoders once."""
        path = find_lora(name, self.folders, prompt=prompt, frame=frame)
        from diffusers.loaders import StableDiffusionLoraLoaderMixin

        adapter = f"deforum_lora_{len(self._adapters)}"
        state, alphas = _state_and_alphas(path, self.parts.sdxl)
        has_unet = any(key.startswith("unet.") for key in state)
        if has_unet:
            with _quiet_peft():
                StableDiffusionLoraLoaderMixin.load_lora_into_unet(state, alphas, self.parts.unet, adapter_name=adapter)
        prefixes = ("text_encoder", "text_encoder_2")
        has_text = tuple(_inject_text_encoder(state, alphas, encoder, prefix, adapter)
                         for encoder, prefix in zip(self.parts.text_encoders, prefixes))
        self._adapters[name], self._parts_of[name] = adapter, (has_unet, *has_text)
        log.info("Deforum diffusers: loaded LoRA %s from %s", name, path)

    def _set(self, weights: dict[str, tuple[float, float]]) -> None:
        """Activate every adapter on the components it has layers for, with this frame's weights."""
        from diffusers.utils.peft_utils import set_weights_and_activate_adapters

        unet = [(self._adapters[n], w[1]) for n, w in weights.items() if self._parts_of[n][0]]
        if unet:
            self.parts.unet.set_adapters([a for a, _ in unet], [w for _, w in unet])
        for index, encoder in enumerate(self.parts.text_encoders):
            text = [(self._adapters[n], w[0]) for n, w in weights.items() if self._parts_of[n][1 + index]]
            if text:
                set_weights_and_activate_adapters(encoder, [a for a, _ in text], [w for _, w in text])


class FluxLoras:
    """Flux LoRAs loaded into one FluxPipeline (transformer by diffusers, CLIP layers by PEFT); weights per frame."""

    def __init__(self, pipe: Any, folders: list[Path]) -> None:
        self.pipe, self.folders = pipe, folders
        self._adapters: dict[str, tuple[str, dict[str, bool]]] = {}
        self._weights: dict[str, tuple[float, float]] = {}

    def apply(self, uses: tuple[LoraUse, ...], *, prompt: str, frame: int) -> bool:
        """Load unseen LoRAs, set this frame's weights (absent ones 0); True when text-encoder weights changed."""
        for use in uses:
            if use.name not in self._adapters:
                self._load(use.name, find_lora(use.name, self.folders, prompt=prompt, frame=frame))
        wanted = {use.name: (use.te, use.unet) for use in uses}
        weights = {name: wanted.get(name, (0.0, 0.0)) for name in self._adapters}
        if weights == self._weights:
            return False
        te_changed = any(weights[n][0] != self._weights.get(n, (0.0, 0.0))[0] for n in weights)
        parts = [{part: w[0] if part == "text_encoder" else w[1] for part, has in self._adapters[n][1].items() if has}
                 for n, w in weights.items()]
        self.pipe.set_adapters([self._adapters[n][0] for n in weights], parts)
        self._weights = weights
        return te_changed

    def _load(self, name: str, path: Path) -> None:
        """Read one Flux LoRA (kohya, XLabs, BFL or diffusers layout) and add it as an adapter."""
        from diffusers.loaders import FluxLoraLoaderMixin

        from deforum.integrations.diffusers.loading import read_state_dict

        adapter = f"deforum_lora_{len(self._adapters)}"
        try:
            state, alphas = FluxLoraLoaderMixin.lora_state_dict(read_state_dict(path), return_alphas=True)
        except (KeyError, ValueError, RuntimeError) as error:
            raise ValueError(f"LoRA {path} cannot be read as a Flux LoRA: {error}") from error
        denoiser = {k: v for k, v in state.items() if not k.startswith("text_encoder.")}
        if denoiser:
            with _quiet_peft():
                self.pipe.load_lora_weights(denoiser, adapter_name=adapter)
        text = _inject_text_encoder(state, alphas, self.pipe.text_encoder, "text_encoder", adapter)
        if not denoiser and not text:
            raise ValueError(f"LoRA {path} holds no Flux LoRA weights (is it a LoRA for another model?)")
        self._adapters[name] = adapter, {"transformer": bool(denoiser), "text_encoder": text}
        log.info("Deforum diffusers: loaded Flux LoRA %s from %s", name, path)
