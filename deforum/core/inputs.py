"""What one render reads: the services it talks to, its frozen inputs, and the hooks that decorate them."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from deforum.animation.keys import AnimationKeys
from deforum.core.hybrid_source import HybridVideo
from deforum.core.masking import RenderMasks
from deforum.core.plan import FramePlan
from deforum.core.services import DepthEstimator, FlowEstimator, ModelService
from deforum.media.human_masks import Matting
from deforum.models.generation import ControlNetUnit
from deforum.models.settings import Settings
from deforum.prompt.mask_expressions import WordMasker


class ControlNetSource(Protocol):
    """Builds the enabled ControlNet units of one generation (integrations.controlnet)."""

    def units(self, keys: AnimationKeys, frame: int, init_image: np.ndarray | None) -> tuple[ControlNetUnit, ...]:
        """The units for `frame`, given the run's schedules and the generation's init image."""
        ...


@dataclass(frozen=True)
class RenderServices:
    """The services one render uses."""

    model: ModelService
    depth: DepthEstimator | None = None
    flow: FlowEstimator | None = None
    word_masker: WordMasker | None = None
    matting: Matting | None = None


@dataclass(frozen=True)
class RenderInputs:
    """Everything the loop reads: settings, evaluated schedules, prompts, plan, seed and init image.

    `prompts` are the per-frame (positive, negative) prompts the model gets; `prompt_texts` the per-frame
    merged keyframe text the original kept as its prompt series (what its .srt printed).
    """

    settings: Settings
    keys: AnimationKeys
    prompts: tuple[tuple[str, str], ...]
    plan: FramePlan
    base_seed: int
    init_image: np.ndarray | None = None
    video_frames: tuple[Path, ...] = ()
    preview: bool = False
    masks: RenderMasks | None = None
    hybrid: HybridVideo | None = None
    outdir: Path | None = None
    controlnet: ControlNetSource | None = None
    prompt_texts: tuple[str, ...] = ()


class RenderHook(Protocol):
    """A feature outside core (Parseq, ControlNet): adjusts the run's settings and decorates its inputs."""

    handles: Set[str]

    def adjust_settings(self, settings: Settings) -> Settings:
        """The settings the run uses and saves (e.g. frame count and fps from a Parseq manifest)."""
        ...

    def decorate(self, inputs: RenderInputs) -> RenderInputs:
        """The inputs with this feature's schedules, prompts or ControlNet source in place."""
        ...
