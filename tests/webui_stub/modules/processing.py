"""Stub of modules.processing: the two processing classes and process_images making solid-colour images."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modules import sd_models, shared
from PIL import Image

CALLS: list[Any] = []
HOOKS: list[Callable[[Any], None]] = []


class StableDiffusionProcessing:
    """Keeps every keyword it is built with as an attribute, plus a copy of the options at build time."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = dict(kwargs)
        self.override_settings: dict[str, Any] = {}
        for key, value in kwargs.items():
            setattr(self, key, value)
        self.opts_at_build = dict(shared.opts.data)
        self.closed = False

    def close(self) -> None:
        """Free what the processing held."""
        self.closed = True


class StableDiffusionProcessingTxt2Img(StableDiffusionProcessing):
    """txt2img."""


class StableDiffusionProcessingImg2Img(StableDiffusionProcessing):
    """img2img."""


class Processed:
    """The result of process_images."""

    def __init__(self, p: StableDiffusionProcessing, images: list[Image.Image], seed: int, info: str) -> None:
        self.images, self.seed, self.info = images, seed, info


def colour_of(seed: int) -> tuple[int, int, int]:
    """A solid colour derived from the seed."""
    return (seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256


def process_images(p: StableDiffusionProcessing) -> Processed:
    """Record the call, apply the checkpoint override, run the hooks, return one solid image of the asked size."""
    p.opts_at_process = dict(shared.opts.data)
    checkpoint = p.override_settings.get("sd_model_checkpoint")
    sd_models.reload_model_weights(info=sd_models.get_closet_checkpoint_match(checkpoint) if checkpoint else None)
    CALLS.append(p)
    if shared.state.interrupted:  # the WebUI's loop breaks before sampling: no image
        return Processed(p, [], p.seed, "")
    for hook in list(HOOKS):  # "during sampling": a hook may press Interrupt or Skip (the image still comes back)
        hook(p)
    image = Image.new("RGB", (p.width, p.height), colour_of(int(p.seed)))
    return Processed(p, [image], int(p.seed), f"Seed: {p.seed}, Steps: {p.steps}")
