"""The one weights module: models folders searched, the Hugging Face cache, the error base, the torch device.

Every model Deforum loads (depth, RAFT, RIFE, FILM, Real-ESRGAN, CLIPSeg, matting, tokenizer, Wan, Qwen) finds its
files through ``models_roots`` (then ``hf_hub_cache``), reports absent files with a ``WeightsMissing`` subclass, and
picks its device with ``default_device``; ``config.fetch.obtain`` downloads what is missing (``config.catalog``).
Checkpoint names and hashes as the WebUI records them live here too.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deforum.models.errors import DeforumError

MODELS_DIR_ENV = "DEFORUM_MODELS_DIR"


class WeightsMissing(DeforumError, FileNotFoundError):
    """A model's weights are not on disk; the message names the files and where to put them (the one error root)."""


class ModelWeightsMissing(WeightsMissing):
    """A post-processing model's weights file is not on disk; the message names the file and where to put it."""


def checked_state(state: object, path: str | os.PathLike[str]) -> dict:
    """A loaded weights file's dict, or a clear error (the WebUI's safety check makes torch.load return None)."""
    if isinstance(state, dict):
        return state
    raise ValueError(f"{path} could not be read as weights: the WebUI's pickle safety check refused it (see the "
                     "console) or it holds no state dict. Use the original file, or a .safetensors copy of it.")


@dataclass(frozen=True)
class WeightsFile:
    """What a model needs: its label, accepted file names, sub-folders searched, where to get it, its catalog name."""

    label: str
    names: tuple[str, ...]
    subfolders: tuple[str, ...]
    source: str
    catalog: str = ""


def models_roots(models_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Models folders searched, first wins: ``models_dir``, $DEFORUM_MODELS_DIR, then ./models (the WebUI's)."""
    roots: list[Path] = []
    for candidate in (models_dir, os.environ.get(MODELS_DIR_ENV), Path.cwd() / "models"):
        if candidate:
            path = Path(candidate).expanduser()
            if path not in roots:
                roots.append(path)
    return roots


def hf_hub_cache() -> Path:
    """The Hugging Face hub cache folder, from $HF_HUB_CACHE, $HF_HOME or $XDG_CACHE_HOME like huggingface_hub."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return cache / "huggingface" / "hub"


def default_device(mps: bool = True) -> str:
    """CUDA when available, then Apple MPS (when ``mps``), else CPU."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    backend = getattr(torch.backends, "mps", None)
    return "mps" if mps and backend is not None and backend.is_available() else "cpu"


def candidate_paths(spec: WeightsFile, models_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Every path checked for ``spec``, in order."""
    return [root / sub / name if sub else root / name
            for root in models_roots(models_dir) for sub in spec.subfolders for name in spec.names]


def find_weights_file(spec: WeightsFile, models_dir: str | os.PathLike[str] | None = None) -> Path:
    """The first existing weights file for ``spec``; ModelWeightsMissing (saying where to put it) when none."""
    paths = candidate_paths(spec, models_dir)
    for path in paths:
        if path.is_file():
            return path
    raise ModelWeightsMissing(missing_message(spec, paths))


def missing_message(spec: WeightsFile, searched: Sequence[Path]) -> str:
    """The error text: which file, where to place it, where it comes from, and what was searched."""
    root = models_roots()[0] if not searched else searched[0].parent
    names = " or ".join(spec.names)
    shown = "\n".join(f"  {path}" for path in searched[:12])
    more = f"\n  … and {len(searched) - 12} more" if len(searched) > 12 else ""
    return (f"{spec.label} weights were not found.\n"
            f"Put {names} in {root} (or pass --models-dir / set ${MODELS_DIR_ENV} to the models folder that "
            f"holds Deforum/).\nGet it from: {spec.source}\nSearched:\n{shown}{more}")


def checkpoint_identity(path: str | os.PathLike[str]) -> tuple[str, str]:
    """A checkpoint's name and short hash as the WebUI records them in settings files.

    The name is the path below a ``Stable-diffusion`` folder when the file lies in one, else its file name;
    the hash is the WebUI's legacy one (first 8 hex digits of the SHA-256 of the 64 KiB at offset 1 MiB).
    A diffusers folder has a name and no hash.
    """
    checkpoint = Path(path).expanduser().resolve()
    below = [folder for folder in checkpoint.parents if folder.name.lower() == "stable-diffusion"]
    name = checkpoint.relative_to(below[0]).as_posix() if below else checkpoint.name
    if not checkpoint.is_file():
        return name, ""
    with checkpoint.open("rb") as handle:
        handle.seek(0x100000)
        return name, hashlib.sha256(handle.read(0x10000)).hexdigest()[:8]


def find_named_file(name: str, folders: Sequence[Path], suffixes: Sequence[str]) -> Path | None:
    """A file a prompt names (LoRA, embedding) in `folders` and their sub-folders, by stem or relative path.

    The first folder holding an exact match wins; without one, a case-insensitive match; None when nothing matches.
    """
    wanted = name.strip().replace("\\", "/")
    for exact in (True, False):
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if path.suffix.lower() not in suffixes or not path.is_file():
                    continue
                keys = (path.stem, path.relative_to(folder).with_suffix("").as_posix())
                if wanted in keys if exact else wanted.lower() in (key.lower() for key in keys):
                    return path
    return None
