"""Motion preview: a ModelService that does no diffusion, so the whole motion pipeline runs anywhere."""

from __future__ import annotations

import functools

import cv2
import numpy as np

from deforum.core.services import CancelToken
from deforum.media.frames_io import test_card
from deforum.models.generation import GeneratedImage, GenerationRequest

RECT_THICKNESS = 2


@functools.lru_cache(maxsize=4)
def _rectangle_overlay(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """The preview's white rectangle outline on black, for frames of `shape` (read-only, drawn once per size)."""
    height, width = shape[:2]
    overlay = np.zeros(shape, dtype)
    cv2.rectangle(overlay, (int(height / 3), int(width / 3)), (int(height - height / 3), int(width - width / 3)),
                  (255, 255, 255), RECT_THICKNESS)
    overlay.flags.writeable = False
    return overlay


def mock_generation(init_image: np.ndarray, denoising_strength: float) -> np.ndarray:
    """The original's preview 'generation': the init image blended with a white rectangle by the denoising strength."""
    overlay = _rectangle_overlay(init_image.shape, init_image.dtype.str)
    strength = float(denoising_strength)
    return cv2.addWeighted(init_image, 1.0 - strength, overlay, strength, 0)


class PreviewModelService:
    """txt2img returns the start image (the test card unless one is given); img2img returns the mock blend."""

    def __init__(self, start_image: np.ndarray | None = None) -> None:
        self.start_image = start_image

    def generate(self, request: GenerationRequest, cancel: CancelToken | None = None) -> GeneratedImage:
        """Make a preview frame of the requested size."""
        if request.init_image is None:
            image = self.start_image if self.start_image is not None else test_card(request.width, request.height)
            if image.shape[:2] != (request.height, request.width):
                image = cv2.resize(image, (request.width, request.height), interpolation=cv2.INTER_LANCZOS4)
            return GeneratedImage(image=image.copy(), seed=request.seed, info="motion preview")
        image = mock_generation(request.init_image, request.denoising_strength)
        return GeneratedImage(image=image, seed=request.seed, info="motion preview")
