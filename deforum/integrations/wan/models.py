"""Finding Wan weights: diffusers-format folders in models/, wan_model_path, the HF cache, then (wan_auto_download) a
download; 14B models also need --allow-large-downloads."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deforum.config.fetch import obtain
from deforum.config.weights import WeightsMissing, hf_hub_cache, models_roots
from deforum.models.errors import DeforumError
from deforum.models.settings import Settings

PIPELINE_KINDS = {"WanPipeline": "t2v", "WanImageToVideoPipeline": "i2v", "WanVACEPipeline": "vace"}
TEXT_KINDS = ("t2v", "vace")
IMAGE_KINDS = ("i2v", "vace")
WAN_SUBFOLDERS = (("Deforum", "wan"), ("wan",), ("Wan",))
REQUIRED_PARTS = ("scheduler", "text_encoder", "tokenizer", "transformer", "vae")
USE_PRIMARY = "Use Primary Model"
AUTO = "Auto-Detect"
CUSTOM = "Custom Path"


class WanModelMissing(WeightsMissing):
    """No usable Wan weights on disk; the message names the folder, the expected files and where to get them."""


class WanModelError(DeforumError, ValueError):
    """The chosen Wan models cannot make the planned clips (a text-only model asked to continue from a frame)."""


@dataclass(frozen=True)
class WanModelSpec:
    """A Wan model the settings can name: its choice label, kind, size, folder names and Hugging Face repo."""

    choice: str
    kind: str
    size: str
    folders: tuple[str, ...]
    repo: str


def _spec(choice: str, kind: str, size: str, name: str, suffix: str = "-Diffusers") -> WanModelSpec:
    """A spec whose diffusers folder is `name` + suffix (the repo's name), also accepted without the suffix."""
    return WanModelSpec(choice, kind, size, (name + suffix, name), f"Wan-AI/{name}{suffix}")


MODEL_SPECS: tuple[WanModelSpec, ...] = (
    _spec("1.3B VACE", "vace", "1.3B", "Wan2.1-VACE-1.3B", "-diffusers"),
    _spec("14B VACE", "vace", "14B", "Wan2.1-VACE-14B", "-diffusers"),
    _spec("1.3B T2V (Legacy)", "t2v", "1.3B", "Wan2.1-T2V-1.3B"),
    _spec("14B T2V (Legacy)", "t2v", "14B", "Wan2.1-T2V-14B"),
    _spec("14B I2V 720P (Legacy)", "i2v", "14B", "Wan2.1-I2V-14B-720P"),
    _spec("14B I2V 480P (Legacy)", "i2v", "14B", "Wan2.1-I2V-14B-480P"),
    _spec("14B FLF2V 720P", "i2v", "14B", "Wan2.1-FLF2V-14B-720P", "-diffusers"),
)
SPECS_BY_CHOICE = {spec.choice: spec for spec in MODEL_SPECS}
AUTO_ORDER = {
    "14B VACE (High Quality)": ("14B VACE", "1.3B VACE", "14B T2V (Legacy)", "1.3B T2V (Legacy)"),
    "Legacy Models": ("1.3B T2V (Legacy)", "14B T2V (Legacy)", "1.3B VACE", "14B VACE"),
}
DEFAULT_AUTO_ORDER = ("1.3B VACE", "14B VACE", "1.3B T2V (Legacy)", "14B T2V (Legacy)")
AUTO_IMAGE_ORDER = ("1.3B VACE", "14B VACE", "14B I2V 480P (Legacy)", "14B I2V 720P (Legacy)", "14B FLF2V 720P")


@dataclass(frozen=True)
class WanModel:
    """A usable diffusers-format Wan folder and what its model_index.json says it is."""

    path: Path
    kind: str
    label: str


@dataclass(frozen=True)
class WanModels:
    """The models a run uses: `text` makes text-to-video clips, `image` continues from a frame (None: not needed)."""

    text: WanModel | None
    image: WanModel | None


def wan_roots(model_path: str, models_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Folders searched for Wan model folders: wan_model_path, then <models>/Deforum/wan, <models>/wan, <models>/Wan."""
    roots = [Path(model_path)] if str(model_path or "").strip() else []
    for root in models_roots(models_dir):
        roots.extend(root.joinpath(*sub) for sub in WAN_SUBFOLDERS)
    return list(dict.fromkeys(root.expanduser().absolute() for root in roots))


def read_kind(folder: Path) -> str | None:
    """'t2v', 'i2v' or 'vace' from the folder's model_index.json; None when it has none or another pipeline."""
    try:
        index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return PIPELINE_KINDS.get(index.get("_class_name", "")) if isinstance(index, dict) else None


def missing_parts(folder: Path) -> list[str]:
    """The component folders model_index.json lists that are absent (every required one when there is no index)."""
    try:
        index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ["model_index.json"]
    parts = [name for name, value in index.items() if not name.startswith("_") and isinstance(value, list)
             and value and value[0] is not None]
    return [f"{name}/" for name in parts if not (folder / name).is_dir()]


def model_at(folder: Path, label: str) -> WanModel:
    """The Wan model in `folder`, checked: WanModelMissing names what is absent or why the folder is unusable."""
    if not folder.is_dir():
        raise WanModelMissing(f"Wan model folder {folder} does not exist. {_layout_hint()}")
    if any(folder.glob("Wan2.1_VAE.pth")) and not (folder / "model_index.json").is_file():
        raise WanModelMissing(f"{folder} holds the original Wan repository's files (Wan2.1_VAE.pth, .pth text "
                              f"encoder); Deforum loads the diffusers layout instead. {_layout_hint()}")
    absent = missing_parts(folder)
    if absent:
        raise WanModelMissing(f"Wan model folder {folder} is incomplete: missing {', '.join(absent)}. {_layout_hint()}")
    kind = read_kind(folder)
    if kind is None:
        raise WanModelMissing(f"{folder}/model_index.json is not a Wan pipeline (WanPipeline, WanImageToVideoPipeline "
                              f"or WanVACEPipeline). {_layout_hint()}")
    return WanModel(folder, kind, label)


def _layout_hint() -> str:
    """What a usable folder holds."""
    parts = ", ".join(f"{part}/" for part in REQUIRED_PARTS)
    return (f"A Wan model is a diffusers-format folder: model_index.json plus {parts} (image-to-video models also "
            "image_encoder/ and image_processor/).")


def _named_folders(spec: WanModelSpec, roots: Sequence[Path]) -> list[Path]:
    """Existing folders under the roots whose name is one of the spec's folder names (any letter case)."""
    wanted = {name.lower() for name in spec.folders}
    found = []
    for root in roots:
        if root.is_dir():
            found.extend(sorted(entry for entry in root.iterdir() if entry.is_dir() and entry.name.lower() in wanted))
    return found


def _cached_folder(spec: WanModelSpec) -> Path | None:
    """The spec's snapshot in the Hugging Face cache (looked up offline), if it is there."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(spec.repo, "model_index.json", cache_dir=str(hf_hub_cache()))
    return Path(found).parent if isinstance(found, str) else None


def find_model(spec: WanModelSpec, roots: Sequence[Path]) -> WanModel | None:
    """The first usable folder for `spec` under the roots, then in the HF cache; a broken one raises."""
    folders = _named_folders(spec, roots) or [folder for folder in (_cached_folder(spec),) if folder]
    return model_at(folders[0], spec.choice) if folders else None


def missing_message(spec: WanModelSpec, roots: Sequence[Path], setting: str) -> str:
    """The error for a model found nowhere: where to put it, what it holds, how to get it, what was searched."""
    target = next((r for r in roots if r.parts[-2:] == ("Deforum", "wan")), roots[0] if roots else Path("models"))
    searched = "\n".join(f"  {root}" for root in roots)
    return (f"Setting '{setting}': Wan model '{spec.choice}' was not found.\n"
            f"Put the folder {spec.folders[0]} in {target} (or point wan_model_path "
            f"at the folder that holds it). {_layout_hint()}\n"
            f"Get it with: hf download {spec.repo} --local-dir {target / spec.folders[0]}\n"
            f"Searched:\n{searched}\n  Hugging Face cache {hf_hub_cache()} ({spec.repo})")


def _named(choice: str, roots: Sequence[Path], setting: str, download: bool = False) -> WanModel:
    """The model a named choice stands for (downloaded when ``download``: wan_auto_download), or WanModelMissing."""
    spec = SPECS_BY_CHOICE[choice]

    def find() -> WanModel:
        model = find_model(spec, roots)
        if model is None:
            raise WanModelMissing(missing_message(spec, roots, setting))
        return model

    return obtain(spec.repo, find) if download else find()


def _auto(order: Sequence[str], roots: Sequence[Path], setting: str, download: bool = False) -> WanModel:
    """The first model of `order` that is on disk; with ``download`` the first of `order` is fetched when none is."""

    def find() -> WanModel:
        for choice in order:
            model = find_model(SPECS_BY_CHOICE[choice], roots)
            if model is not None:
                return model
        names = ", ".join(SPECS_BY_CHOICE[c].folders[0] for c in order)
        raise WanModelMissing(f"Setting '{setting}' is Auto-Detect, but none of {names} was found.\n"
                              + missing_message(SPECS_BY_CHOICE[order[0]], roots, setting).split("\n", 1)[1])

    return obtain(SPECS_BY_CHOICE[order[0]].repo, find) if download else find()


def _choice(settings: Settings, setting: str, order: Sequence[str], kinds: Sequence[str],
            roots: Sequence[Path]) -> WanModel:
    """The model a wan_t2v_model / wan_i2v_model choice names, checked to be of a usable kind."""
    choice = getattr(settings.forge, setting)
    if choice == CUSTOM:
        model = model_at(Path(settings.forge.wan_model_path).expanduser().absolute(), "Custom Path")
    elif choice == AUTO:
        model = _auto(order, roots, setting, settings.forge.wan_auto_download)
    elif choice in SPECS_BY_CHOICE:
        model = _named(choice, roots, setting, settings.forge.wan_auto_download)
    else:
        allowed = ", ".join([AUTO, *SPECS_BY_CHOICE, CUSTOM])
        raise WanModelError(f"Setting '{setting}': unknown model {choice!r}; choose one of {allowed}.")
    if model.kind not in kinds:
        role = "text-to-video" if setting == "wan_t2v_model" else "image-to-video"
        raise WanModelError(f"Setting '{setting}': {model.label} ({model.path}) is a {model.kind} model and cannot "
                            f"make {role} clips; choose a {' or '.join(kinds)} model.")
    return model


def select_models(settings: Settings, modes: set[str], models_dir: str | os.PathLike[str] | None = None) -> WanModels:
    """The models for a plan whose clips use `modes` ('t2v', 'i2v'), found on disk; clear errors otherwise."""
    forge = settings.forge
    roots = wan_roots(forge.wan_model_path, models_dir)
    primary_order = AUTO_ORDER.get(forge.wan_preferred_size, DEFAULT_AUTO_ORDER)
    primary = _choice(settings, "wan_t2v_model", primary_order, TEXT_KINDS, roots) \
        if "t2v" in modes or ("i2v" in modes and forge.wan_i2v_model == USE_PRIMARY) else None
    image = _image_model(settings, primary, roots) if "i2v" in modes else None
    return WanModels(primary if "t2v" in modes else None, image)


def _image_model(settings: Settings, primary: WanModel | None, roots: Sequence[Path]) -> WanModel:
    """The model that continues clips from a frame: the VACE primary model, or wan_i2v_model's choice."""
    choice = settings.forge.wan_i2v_model
    if choice == USE_PRIMARY and primary is not None and primary.kind != "vace":
        raise WanModelError(f"Setting 'wan_i2v_model': 'Use Primary Model' needs a VACE primary model to continue "
                            f"clips from the previous frame, but {primary.label} makes video from text only. Choose "
                            "a VACE model in wan_t2v_model, an I2V model in wan_i2v_model, or 'Use T2V Model (No "
                            "Continuity)'.")
    if choice == USE_PRIMARY or (choice == AUTO and primary is not None and primary.kind == "vace"):
        return primary
    return _choice(settings, "wan_i2v_model", AUTO_IMAGE_ORDER, IMAGE_KINDS, roots)
