"""FrameState: what the render carries from one frame to the next (frozen; the engine replaces it)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FrameState:
    """The previous frame, the cadence pair, the colour reference, the generation count, the last hybrid flow."""

    prev_img: np.ndarray | None = None
    turbo_prev_img: np.ndarray | None = None
    turbo_prev_idx: int = 0
    turbo_next_img: np.ndarray | None = None
    turbo_next_idx: int = 0
    color_sample: np.ndarray | None = None
    generation: int = 0
    init_used: bool = False
    next_segment: int = 0
    hybrid_flow: np.ndarray | None = None

    def evolve(self, **changes: Any) -> FrameState:
        """A copy with some fields changed."""
        return replace(self, **changes)


ARRAY_FIELDS = ("prev_img", "turbo_prev_img", "turbo_next_img", "color_sample", "hybrid_flow")
SCALAR_FIELDS = ("turbo_prev_idx", "turbo_next_idx", "generation", "init_used", "next_segment")


def state_to_arrays(state: FrameState) -> dict[str, np.ndarray]:
    """Flatten a state into named arrays (for the resume checkpoint)."""
    arrays = {name: getattr(state, name) for name in ARRAY_FIELDS if getattr(state, name) is not None}
    arrays.update({name: np.asarray(int(getattr(state, name))) for name in SCALAR_FIELDS})
    return arrays


def state_from_arrays(arrays: dict[str, np.ndarray]) -> FrameState:
    """Rebuild a state saved by state_to_arrays."""
    images = {name: np.array(arrays[name]) for name in ARRAY_FIELDS if name in arrays}
    scalars = {name: int(arrays[name]) for name in SCALAR_FIELDS}
    scalars["init_used"] = bool(scalars["init_used"])
    return FrameState(**images, **scalars)
