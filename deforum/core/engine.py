"""The render loop: walks the FramePlan, holds the FrameState, talks to services and the frame sink."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from deforum.animation.keys import AnimationKeys
from deforum.core import steps
from deforum.core.frame_params import frame_params, frame_seed
from deforum.core.plan import FramePlan, Segment
from deforum.core.services import CancelToken, DepthEstimator, ModelService
from deforum.core.state import FrameState
from deforum.media.color import ColorReference, prepare_reference
from deforum.models.settings import Settings

log = logging.getLogger(__name__)
ProgressCallback = Callable[[int, int], None]


class FrameSink(Protocol):
    """Where rendered frames, depth maps, frame info and resume checkpoints go."""

    def write_frame(self, frame: int, image: np.ndarray) -> None:
        """Store one finished frame."""
        ...

    def write_info(self, frame: int, seed: int, tween: float | None) -> None:
        """Record a written frame's seed and cadence tween (None without cadence)."""
        ...

    def write_depth(self, frame: int, depth: np.ndarray) -> None:
        """Store one depth map."""
        ...

    def save_state(self, state: FrameState) -> None:
        """Store a resume checkpoint taken between segments."""
        ...


@dataclass(frozen=True)
class RenderServices:
    """The services one render uses."""

    model: ModelService
    depth: DepthEstimator | None = None


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


@dataclass(frozen=True)
class RenderOutcome:
    """How the loop ended."""

    frames_written: int
    cancelled: bool
    state: FrameState


class _Loop:
    """One render's loop: frozen inputs, services, the sink and the current FrameState."""

    def __init__(self, inputs: RenderInputs, services: RenderServices, sink: FrameSink,
                 cancel: CancelToken, progress: ProgressCallback | None) -> None:
        self.inputs, self.services, self.sink = inputs, services, sink
        self.cancel, self.progress = cancel, progress
        self.written = 0
        self._reference: tuple[np.ndarray | None, ColorReference | None] = (None, None)

    def _prepared(self, sample: np.ndarray | None) -> ColorReference | None:
        """The colour sample's histograms, computed once per sample image."""
        mode = self.inputs.settings.anim.color_coherence
        if sample is None or mode == "None":
            return None
        if self._reference[0] is not sample:
            self._reference = (sample, prepare_reference(sample, mode))
        return self._reference[1]

    def _depth(self, image: np.ndarray | None) -> np.ndarray | None:
        """Depth of an image when an estimator is present and the render needs it."""
        anim = self.inputs.settings.anim
        wants = (anim.animation_mode == "3D" and anim.use_depth_warping) or anim.save_depth_maps
        if image is None or self.services.depth is None or not wants:
            return None
        return self.services.depth.predict(image)

    def _emit(self, frame: int, image: np.ndarray, depth: np.ndarray | None, seed: int,
              tween: float | None = None) -> None:
        """Write a finished frame (its depth map and info) and report progress."""
        self.sink.write_frame(frame, image)
        self.sink.write_info(frame, seed, tween)
        if depth is not None and self.inputs.settings.anim.save_depth_maps:
            self.sink.write_depth(frame, depth)
        self.written += 1
        if self.progress:
            self.progress(frame + 1, self.inputs.plan.max_frames)

    def tweens(self, segment: Segment, state: FrameState) -> FrameState:
        """Emit the segment's cadence frames: warp both diffused frames, blend, save."""
        s, keys = self.inputs.settings, self.inputs.keys
        prev, nxt = state.turbo_prev_img, state.turbo_next_img
        for frame in segment.tween_frames:
            seed = frame_seed(s, keys, self.inputs.base_seed, state.generation, frame)
            depth = self._depth(nxt)
            if prev is not None and frame > state.turbo_prev_idx:
                prev = steps.warp(prev, s, keys, frame, depth)
            if frame > state.turbo_next_idx:
                nxt = steps.warp(nxt, s, keys, frame, depth)
            image = steps.grayscale_if(steps.tween_image(prev, nxt, segment.tween_value(frame)), s)
            state = state.evolve(turbo_prev_img=prev, turbo_next_img=nxt, turbo_prev_idx=frame,
                                 turbo_next_idx=frame, prev_img=image)
            self._emit(frame, image, depth, seed, segment.tween_value(frame))
        return state

    def diffuse(self, frame: int, state: FrameState) -> FrameState:
        """Warp and prepare the previous frame, generate this frame, update the colour sample."""
        s, inputs = self.inputs.settings, self.inputs
        params = frame_params(s, inputs.keys, inputs.prompts, frame, inputs.base_seed, state.generation)
        sample, init_used = state.color_sample, state.init_used
        mode = s.anim.animation_mode
        if mode == "Video Input":
            init, strength, init_used = steps.video_init(inputs.video_frames, frame, s), params.strength, True
        elif mode == "Interpolation":
            init, strength = self._first_init()
            init_used = init is not None
        elif state.prev_img is not None:
            warped = steps.warp(state.prev_img, s, inputs.keys, frame, self._depth(state.prev_img))
            warped, sample = steps.coherence_before_generation(warped, sample, s, self._prepared(sample))
            init = steps.prepare_init(steps.grayscale_if(warped, s), params, s)
            strength, init_used = params.strength, True
        else:
            init, strength = self._first_init()
            init_used = init is not None
        request = steps.build_request(params, s, init, strength)
        image = self.services.model.generate(request, self.cancel).image
        image = steps.coherence_after_generation(image, sample, frame, s, self._prepared(sample))
        image = steps.grayscale_if(image, s)
        sample = steps.next_color_sample(image, sample, init_used, params.strength, s)
        state = state.evolve(prev_img=image, color_sample=sample, generation=state.generation + 1,
                             init_used=init_used)
        if inputs.plan.cadence > 1:
            return state.evolve(turbo_prev_img=state.turbo_next_img, turbo_prev_idx=state.turbo_next_idx,
                                turbo_next_img=image, turbo_next_idx=frame)
        self._emit(frame, image, self._depth(image) if s.anim.save_depth_maps else None, params.seed)
        return state

    def _first_init(self) -> tuple[np.ndarray | None, float]:
        """The first frame: the init image at `strength`, or txt2img (strength 0 without an init)."""
        a = self.inputs.settings.args
        if self.inputs.init_image is not None:
            return self.inputs.init_image, min(1.0, max(0.0, a.strength))
        return None, 0.0 if a.strength_0_no_init else a.strength


def render(inputs: RenderInputs, services: RenderServices, sink: FrameSink, *,
           cancel: CancelToken | None = None, progress: ProgressCallback | None = None,
           state: FrameState | None = None) -> RenderOutcome:
    """Run the plan from `state` (a resume checkpoint) or from the start; frames written stay on cancel."""
    loop = _Loop(inputs, services, sink, cancel or CancelToken(), progress)
    state = state or FrameState()
    segments = inputs.plan.segments
    for index in range(state.next_segment, len(segments)):
        if loop.cancel.cancelled:
            return RenderOutcome(loop.written, True, state)
        segment = segments[index]
        state = loop.tweens(segment, state)
        if segment.key_frame is not None:
            if loop.cancel.cancelled:
                return RenderOutcome(loop.written, True, state)
            state = loop.diffuse(segment.key_frame, state)
        state = state.evolve(next_segment=index + 1)
        sink.save_state(state)
    return RenderOutcome(loop.written, False, state)
