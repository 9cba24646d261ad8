"""Depth algorithm names: the supported models, the original's names mapped onto them, and output conventions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_ALGORITHM = "Depth-Anything-V2-Small"
MIDAS_ALGORITHM = "Midas-3-Hybrid"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF_MEAN = (0.5, 0.5, 0.5)
LEGACY_ALGORITHMS = ("midas+adabins (old)", "zoe+adabins (old)")
LEGACY_ALIGN_OFFSET, LEGACY_ALIGN_SCALE = 50.0, 19.0


@dataclass(frozen=True)
class DepthModelSpec:
    """One supported depth network: where its weights live and how it wants its input."""

    name: str
    model_type: str
    repo_ids: tuple[str, ...]
    input_size: int
    multiple_of: int
    resize_method: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    upsample: str
    original_files: tuple[str, ...] = ()
    bgr_input: bool = False

    @property
    def folder_names(self) -> tuple[str, ...]:
        """Folder names accepted under a models folder: each repo's name, then its full id (owner/name)."""
        return tuple(repo.split("/")[-1] for repo in self.repo_ids) + self.repo_ids


def _depth_anything(size: str) -> DepthModelSpec:
    """The spec of one Depth-Anything-V2 size (the official 518-pixel, multiple-of-14 lower-bound resize).

    Its weights are a ``-hf`` folder or the official ``depth_anything_v2_vit{s,b,l}.pth`` file.
    """
    return DepthModelSpec(
        name=f"Depth-Anything-V2-{size}", model_type="depth_anything",
        repo_ids=(f"depth-anything/Depth-Anything-V2-{size}-hf",), input_size=518, multiple_of=14,
        resize_method="lower_bound", mean=IMAGENET_MEAN, std=IMAGENET_STD, upsample="bilinear",
        original_files=(f"depth_anything_v2_vit{size[0].lower()}.pth",),
    )


SUPPORTED_MODELS: dict[str, DepthModelSpec] = {
    spec.name: spec
    for spec in (
        _depth_anything("Small"),
        _depth_anything("Base"),
        _depth_anything("Large"),
        DepthModelSpec(
            name=MIDAS_ALGORITHM, model_type="dpt", repo_ids=("Intel/dpt-large", "Intel/dpt-hybrid-midas"),
            input_size=384, multiple_of=32, resize_method="minimal", mean=HALF_MEAN, std=HALF_MEAN,
            upsample="bicubic", original_files=("dpt_large-midas-2f21e586.pt",), bgr_input=True,
        ),
    )
}

MAPPED_ALGORITHMS: dict[str, str] = {
    "midas+adabins (old)": MIDAS_ALGORITHM,
    "zoe+adabins (old)": MIDAS_ALGORITHM,
    "midas-3.1-beitlarge": MIDAS_ALGORITHM,
    "adabins": DEFAULT_ALGORITHM,
    "zoe": DEFAULT_ALGORITHM,
    "leres": DEFAULT_ALGORITHM,
}

_CANONICAL = {name.lower(): name for name in SUPPORTED_MODELS}


def resolve_algorithm(name: str) -> str:
    """The supported model a ``depth_algorithm`` value runs on (case-insensitive; old names mapped)."""
    key = str(name).strip().lower()
    if key in _CANONICAL:
        return _CANONICAL[key]
    if key in MAPPED_ALGORITHMS:
        return MAPPED_ALGORITHMS[key]
    choices = ", ".join([*SUPPORTED_MODELS, "AdaBins", "Zoe", "Leres", "Midas+AdaBins (old)", "Zoe+AdaBins (old)"])
    raise ValueError(f"Unknown depth_algorithm {name!r}; choose one of: {choices}")


def mapping_notice(name: str) -> str | None:
    """The notice to log when ``name`` is an old algorithm that runs on another model, else None."""
    key = str(name).strip().lower()
    if key in _CANONICAL:
        return None
    model = resolve_algorithm(name)
    detail = (" Its AdaBins blend is approximated by MiDaS depth aligned the original's way "
              "((50 - depth) / 19)." if key in LEGACY_ALGORITHMS else "")
    return (f"Depth algorithm {name!r} is no longer bundled; using {model} instead, with the depth convention "
            f"of {name!r} so the 3D warp keeps its direction.{detail}")


def spec_for(name: str) -> DepthModelSpec:
    """The model spec behind a ``depth_algorithm`` value."""
    return SUPPORTED_MODELS[resolve_algorithm(name)]


def output_convention(name: str) -> str:
    """What ``predict`` returns for ``name``, matching animation.depth_z: "inverse", "depth" or "legacy"."""
    key = str(name).strip().lower()
    if key in LEGACY_ALGORITHMS:
        return "legacy"
    return "inverse" if key.startswith("midas") else "depth"


def to_convention(inverse_depth: np.ndarray, name: str, midas_weight: float = 0.2) -> np.ndarray:
    """Turn a model's relative inverse depth (larger = nearer) into the convention ``name`` expects (float32).

    "inverse" (MiDaS names): unchanged. "depth" (Depth-Anything, Zoe, AdaBins, Leres): negated, so larger is
    farther. "legacy" ("(old)" names, used as z directly): ``(50 - d) / 19`` as the original aligned MiDaS to
    AdaBins, except Midas+AdaBins (old) with midas_weight >= 1, which the original used raw.
    """
    depth = np.asarray(inverse_depth, dtype=np.float32)
    convention = output_convention(name)
    if convention == "inverse":
        return depth
    if convention == "depth":
        return np.negative(depth)
    if str(name).strip().lower() == "midas+adabins (old)" and midas_weight >= 1.0:
        return depth
    return ((LEGACY_ALIGN_OFFSET - depth) / LEGACY_ALIGN_SCALE).astype(np.float32)


def larger_is_nearer(name: str, midas_weight: float = 0.2) -> bool:
    """Whether larger ``predict`` values are nearer the camera for ``name`` (for grey depth maps)."""
    convention = output_convention(name)
    if convention == "legacy":
        return str(name).strip().lower() == "midas+adabins (old)" and midas_weight >= 1.0
    return convention == "inverse"
