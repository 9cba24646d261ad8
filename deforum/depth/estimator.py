"""The DepthEstimator the engine uses: a depth network plus the output convention of the chosen algorithm."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from deforum.depth.algorithms import larger_is_nearer, mapping_notice, resolve_algorithm, spec_for, to_convention
from deforum.depth.locate import find_or_download

if TYPE_CHECKING:
    from types import TracebackType

    from deforum.depth.network import DepthNetwork

log = logging.getLogger(__name__)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Check a frame is H×W×3 uint8 RGB (an alpha channel is dropped); ValueError otherwise."""
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) < 1:
        raise ValueError(f"depth input must be an H×W×3 uint8 RGB image, got {array.dtype} {array.shape}")
    return array[..., :3]


class TransformersDepthEstimator:
    """Depth of RGB frames, float32 H×W at the frame's size, in the convention ``algorithm`` has in depth_z.

    MiDaS names get relative inverse depth (larger = nearer), Depth-Anything and the other non-"(old)" names
    its negation (larger = farther), the "(old)" names z-ready values (see algorithms.to_convention).
    """

    def __init__(self, network: DepthNetwork, algorithm: str, midas_weight: float = 0.2, *,
                 owns_network: bool = True) -> None:
        self.network: DepthNetwork | None = network
        self.algorithm = algorithm
        self.model_name = resolve_algorithm(algorithm)
        self.midas_weight = float(midas_weight)
        self.owns_network = owns_network

    @property
    def larger_is_nearer(self) -> bool:
        """Whether larger predicted values are nearer the camera."""
        return larger_is_nearer(self.algorithm, self.midas_weight)

    def predict(self, image: np.ndarray) -> np.ndarray:
        """Depth of one RGB uint8 H×W×3 frame (float32 H×W)."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Depth of several frames in as few forward passes as possible (frames of equal size are batched)."""
        if self.network is None:
            raise RuntimeError("This depth estimator was closed; load it again.")
        frames = [as_rgb(image) for image in images]
        return [to_convention(depth, self.algorithm, self.midas_weight) for depth in self.network.infer(frames)]

    def close(self) -> None:
        """Free the model's memory (a cache-owned model is left to its cache)."""
        if self.network is not None and self.owns_network:
            self.network.close()
        self.network = None

    def __enter__(self) -> TransformersDepthEstimator:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def load_network(algorithm: str, *, models_dir: str | os.PathLike[str] | None = None, device: str | None = None,
                 half: bool | None = None) -> DepthNetwork:
    """Load the network behind ``algorithm`` from local weights (DepthModelMissing when absent)."""
    from deforum.depth.network import DepthNetwork

    spec = spec_for(algorithm)
    notice = mapping_notice(algorithm)
    if notice:
        log.warning(notice)
    return DepthNetwork.load(spec, find_or_download(spec, models_dir), device=device, half=half)


def load_depth_estimator(algorithm: str, *, models_dir: str | None = None, device: str | None = None,
                         half: bool | None = None, midas_weight: float = 0.2) -> TransformersDepthEstimator:
    """A DepthEstimator for a ``depth_algorithm`` value; weights from local folders only (see locate.py).

    ``device`` defaults to CUDA, then MPS, then CPU; ``half`` to fp16 on CUDA. Close it (or use ``with``) to
    free its memory; DepthModelCache keeps one across runs instead.
    """
    network = load_network(algorithm, models_dir=models_dir, device=device, half=half)
    return TransformersDepthEstimator(network, algorithm, midas_weight)
