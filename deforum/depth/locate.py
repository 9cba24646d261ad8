"""Finding depth weights on disk (never downloading): models folders, the Hugging Face cache, original files."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from deforum.depth.algorithms import DepthModelSpec

log = logging.getLogger(__name__)

MODELS_DIR_ENV = "DEFORUM_MODELS_DIR"
SUBFOLDERS = ("Deforum", "depth", "")
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


class DepthModelMissing(FileNotFoundError):
    """The weights of a depth model are not on disk; the message says which files to put where."""


@dataclass(frozen=True)
class WeightsSource:
    """Where a model's weights were found: a transformers folder, or a single original checkpoint file.

    "original" is the original extension's MiDaS file, or the official Depth-Anything-V2 .pth file.
    """

    path: Path
    kind: str


def search_roots(models_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Models folders to search, first wins: ``models_dir``, $DEFORUM_MODELS_DIR, then ./models (the WebUI's)."""
    candidates = [models_dir, os.environ.get(MODELS_DIR_ENV), Path.cwd() / "models"]
    roots: list[Path] = []
    for candidate in candidates:
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


def is_model_folder(path: Path, model_type: str) -> bool:
    """Whether ``path`` holds a transformers model of ``model_type`` (config.json plus a weights file)."""
    config = path / "config.json"
    if not config.is_file() or not any((path / name).is_file() for name in WEIGHT_FILES):
        return False
    try:
        found = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        return False
    if found != model_type:
        log.warning("Skipping %s: it holds a %r model, not %r.", path, found, model_type)
        return False
    return True


def cached_snapshot(repo_id: str, cache: Path | None = None) -> Path | None:
    """The local snapshot of ``repo_id`` in the Hugging Face cache (the ``main`` ref first), or None."""
    repo = (cache or hf_hub_cache()) / f"models--{repo_id.replace('/', '--')}"
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = repo / "refs" / "main"
    preferred = [snapshots / ref.read_text(encoding="utf-8").strip()] if ref.is_file() else []
    for snapshot in preferred + sorted(snapshots.iterdir()):
        if (snapshot / "config.json").is_file():
            return snapshot
    return None


def _root_candidates(spec: DepthModelSpec, root: Path) -> list[WeightsSource]:
    """Everything under one models folder that could hold ``spec``'s weights, in preference order."""
    found = [WeightsSource(root, "folder")]
    for sub in SUBFOLDERS:
        base = root / sub if sub else root
        for index, repo_id in enumerate(spec.repo_ids):
            found += [WeightsSource(base / name, "folder") for name in (repo_id.split("/")[-1], repo_id)]
            if index == 0:
                found += [WeightsSource(base / name, "original") for name in spec.original_files]
    return found


def find_weights(spec: DepthModelSpec, models_dir: str | os.PathLike[str] | None = None) -> WeightsSource:
    """The first place holding ``spec``'s weights; DepthModelMissing (saying where to put them) if none."""
    for root in search_roots(models_dir):
        for source in _root_candidates(spec, root):
            if source.kind == "original" and source.path.is_file():
                return source
            if source.kind == "folder" and source.path.is_dir() and is_model_folder(source.path, spec.model_type):
                return source
    for repo_id in spec.repo_ids:
        snapshot = cached_snapshot(repo_id)
        if snapshot is not None and is_model_folder(snapshot, spec.model_type):
            return WeightsSource(snapshot, "folder")
    raise DepthModelMissing(missing_message(spec, models_dir))


def missing_message(spec: DepthModelSpec, models_dir: str | os.PathLike[str] | None = None) -> str:
    """The error text for absent weights: the model, the folder names and files expected, and where."""
    roots = search_roots(models_dir)
    first = roots[0] / "Deforum" if roots else Path("models") / "Deforum"
    folders = " or ".join(f"'{name}'" for name in spec.folder_names[: len(spec.repo_ids)])
    lines = [
        f"Depth model {spec.name} was not found, and Deforum never downloads weights.",
        f"Put the Hugging Face repo {' or '.join(spec.repo_ids)} (transformers format: config.json + "
        f"model.safetensors) in a folder named {folders}, e.g. {first / spec.folder_names[0]}",
    ]
    if spec.original_files:
        owner = "the original extension's" if spec.model_type == "dpt" else "the official checkpoint"
        lines.append(f"or put {owner} {' or '.join(spec.original_files)} in {first}")
    lines += [
        f"Searched models folders (each with Deforum/, depth/ or directly): {', '.join(map(str, roots))}; "
        f"the Hugging Face cache {hf_hub_cache()} (offline).",
        f"Point the models_dir option or ${MODELS_DIR_ENV} at the folder holding it, or fetch it once with "
        f"`huggingface-cli download {spec.repo_ids[0]}` on a machine with internet access.",
    ]
    return "\n".join(lines)
