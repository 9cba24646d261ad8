"""Service protocols the engine talks to: model, depth, optical flow, frame interpolation; and the cancel token."""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

import numpy as np

from deforum.models.generation import GeneratedImage, GenerationRequest


class RenderCancelled(Exception):
    """Raised inside a service when the render's cancel token is set."""


class CancelToken:
    """A thread-safe flag checked between frames and passed to services."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the render to stop after the current step."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once cancel() was called."""
        return self._event.is_set()


@runtime_checkable
class ModelService(Protocol):
    """Makes images: txt2img when request.init_image is None, img2img otherwise."""

    def generate(self, request: GenerationRequest, cancel: CancelToken | None = None) -> GeneratedImage:
        """Generate one frame."""
        ...


@runtime_checkable
class DepthEstimator(Protocol):
    """Predicts a depth map (H×W float32, larger = farther or nearer as the model's convention says)."""

    def predict(self, image: np.ndarray) -> np.ndarray:
        """Depth of an RGB uint8 image."""
        ...


@runtime_checkable
class FlowEstimator(Protocol):
    """Estimates optical flow between two frames (H×W×2 float32)."""

    def flow(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Flow from a to b."""
        ...


@runtime_checkable
class FrameInterpolator(Protocol):
    """Inserts frames between consecutive frames."""

    def interpolate(self, frames: list[np.ndarray], x: int) -> list[np.ndarray]:
        """Return the frames with x-1 new frames between each pair."""
        ...
