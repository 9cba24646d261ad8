"""Depth estimation: Depth-Anything-V2 (default, our own network) and MiDaS (transformers), local weights only."""

from deforum.depth.algorithms import DEFAULT_ALGORITHM, SUPPORTED_MODELS, resolve_algorithm
from deforum.depth.cache import DEPTH_MODEL_CACHE, DepthModelCache
from deforum.depth.estimator import TransformersDepthEstimator, load_depth_estimator
from deforum.depth.locate import MODELS_DIR_ENV, DepthModelMissing

__all__ = [
    "DEFAULT_ALGORITHM",
    "DEPTH_MODEL_CACHE",
    "MODELS_DIR_ENV",
    "SUPPORTED_MODELS",
    "DepthModelCache",
    "DepthModelMissing",
    "TransformersDepthEstimator",
    "load_depth_estimator",
    "resolve_algorithm",
]
