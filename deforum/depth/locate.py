"""Finding depth weights: models folders, the Hugging Face cache, original files, then a download (config.fetch)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from deforum.config.fetch import obtain
from deforum.config.weights import MODELS_DIR_ENV, WeightsMissing, hf_hub_cache, models_roots
from deforum.depth.algorithms import DepthModelSpec

log = logging.getLogger(__name__)

SUBFOLDERS = ("Deforum", "depth", "")
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


class DepthModelMissing(WeightsMissing):
    """The weights of a depth model are not on disk; the message says which files to put where."""


@dataclass(frozen=True)
class WeightsSource:
    """Where a model's weights were found: a transformers folder, or a single original checkpoint file.

    "original" is the original extension's MiDaS file, or the official Depth-Anything-V2 .pth file.
    """

    path: Path
    kind: str


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
    for root in models_roots(models_dir):
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


def find_or_download(spec: DepthModelSpec, models_dir: str | os.PathLike[str] | None = None) -> WeightsSource:
    """``find_weights``, downloading the model first when it is nowhere on disk and downloads are on."""
    return obtain(spec.name.lower(), lambda: find_weights(spec, models_dir), models_dir)


def missing_message(spec: DepthModelSpec, models_dir: str | os.PathLike[str] | None = None) -> str:
    """The error text for absent weights: the model, the folder names and files expected, and where."""
    roots = models_roots(models_dir)
    first = roots[0] / "Deforum" if roots else Path("models") / "Deforum"
    folders = " or ".join(f"'{name}'" for name in spec.folder_names[: len(spec.repo_ids)])
    lines = [
        f"Depth model {spec.name} was not found.",
        f"Put the Hugging Face repo {' or '.join(spec.repo_ids)} (transformers format: config.json + "
        f"model.safetensors) in a folder named {folders}, e.g. {first / spec.folder_names[0]}",
    ]
    if spec.original_files:
        owner = "the original extension's" if spec.model_type == "dpt" else "the official checkpoint"
        lines.append(f"or put {owner} {' or '.join(spec.original_files)} in {first}")
    lines += [
        f"Searched models folders (each with Deforum/, depth/ or directly): {', '.join(map(str, roots))}; "
        f"the Hugging Face cache {hf_hub_cache()}.",
        f"Point the models_dir option or ${MODELS_DIR_ENV} at the folder holding it, or fetch it once with "
        f"`deforum models download {spec.name.lower()}`.",
    ]
    return "\n".join(lines)
