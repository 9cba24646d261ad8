"""What one render reads: the services it talks to and its frozen inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deforum.animation.keys import AnimationKeys
from deforum.core.hybrid_source import HybridVideo
from deforum.core.masking import RenderMasks
from deforum.core.plan import FramePlan
from deforum.core.services import DepthEstimator, FlowEstimator, ModelService
from deforum.models.settings import Settings


@dataclass(frozen=True)
class RenderServices:
    """The services one render uses."""

    model: ModelService
    depth: DepthEstimator | None = None
    flow: FlowEstimator | None = None


@dataclass(frozen=True)
class RenderInputs:
    """Everything the loop reads: settings, evaluated schedules, prompts, plan, seed and init image."""

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
