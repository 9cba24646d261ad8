"""Extra generations before the real one: optical-flow redo and diffusion redo (the original's order)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

import numpy as np

from deforum.core.services import FlowEstimator
from deforum.media.flow import estimate_flow, warp_by_flow
from deforum.models.generation import GenerationRequest

Generate = Callable[[GenerationRequest], np.ndarray]


def redo_seed(base_seed: int, generation: int, kind: str, attempt: int) -> int:
    """A reproducible stand-in for the original's unseeded random redo seed."""
    return random.Random(f"{base_seed}:{generation}:{kind}:{attempt}").randint(0, 2**32 - 1)


def optical_flow_redo(request: GenerationRequest, prev_image: np.ndarray, method: str, flow_factor: float,
                      generate: Generate, seed: int, raft: FlowEstimator | None = None) -> np.ndarray:
    """Diffuse once with another seed, then warp that image by the flow from the previous frame to it."""
    disposable = generate(dataclasses.replace(request, seed=seed))
    flow = estimate_flow(prev_image, disposable, method, raft=raft)
    return warp_by_flow(disposable, flow * flow_factor)


def diffusion_redo(request: GenerationRequest, seeds: list[int], generate: Generate) -> np.ndarray:
    """Diffuse `len(seeds)` times, each result the next init (the original never colour-matched them)."""
    init = request.init_image
    for seed in seeds:
        init = generate(dataclasses.replace(request, init_image=init, seed=seed))
    return init
