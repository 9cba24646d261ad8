"""The render loop: walks the FramePlan, holds the FrameState, talks to services and the frame sink."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from deforum.core import steps
from deforum.core.distribution import experimental_core_strength
from deforum.core.frame_init import InitBuilder
from deforum.core.frame_params import frame_params, frame_seed
from deforum.core.inputs import RenderInputs, RenderServices
from deforum.core.plan import Segment
from deforum.core.services import CancelToken, RenderCancelled
from deforum.core.state import FrameState
from deforum.media.color import ColorReference, prepare_reference
from deforum.media.flow import cadence_flow_blend, cadence_flow_start, flow_to_relative
from deforum.media.noise import NoiseFields
from deforum.models.generation import GenerationRequest
from deforum.models.modes import traits

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
class RenderOutcome:
    """How the loop ended."""

    frames_written: int
    cancelled: bool
    state: FrameState


class BlankFrameStop(Exception):
    """A blank frame ended the render (reroll_blank_frames 'interrupt', or reroll patience used up)."""


class _Loop:
    """One render's loop: frozen inputs, services, the sink and the current FrameState."""

    def __init__(self, inputs: RenderInputs, services: RenderServices, sink: FrameSink,
                 cancel: CancelToken, progress: ProgressCallback | None) -> None:
        self.inputs, self.services, self.sink = inputs, services, sink
        self.cancel, self.progress = cancel, progress
        self.written = 0
        self._reference: tuple[np.ndarray | None, ColorReference | None] = (None, None)
        self.noise = NoiseFields()
        self.inits = InitBuilder(inputs, services.flow, self._generate_image, self._depth, self._prepared,
                                 self.noise)

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
        wants = (traits(anim.animation_mode).depth_warp and anim.use_depth_warping) or anim.save_depth_maps
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

    def _cadence_flow(self, segment: Segment, prev: np.ndarray | None,
                      nxt: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Optical-flow cadence set-up: (half the prev→next flow, next pulled back), or (None, next) when off."""
        anim, keys = self.inputs.settings.anim, self.inputs.keys
        method = anim.optical_flow_cadence
        uses_flow = method != "None" and traits(anim.animation_mode).cadence and not (
            method == "RAFT" and self.services.flow is None)
        if not uses_flow or prev is None or nxt is None or keys.value("strength_schedule", segment.tween_start) <= 0:
            return None, nxt
        return cadence_flow_start(prev, nxt, method, raft=self.services.flow)

    def warp_tweens(self, segment: Segment, state: FrameState) -> FrameState:
        """Keyframe distribution: each tween is the previous written frame warped on by its frame's motion."""
        s, keys, hybrid = self.inputs.settings, self.inputs.keys, self.inputs.hybrid
        image = state.prev_img
        for frame in segment.tween_frames:
            seed = frame_seed(s, keys, self.inputs.base_seed, state.generation, frame)
            depth = self._depth(image)
            moved = steps.warp(image, s, keys, frame, depth)
            if hybrid is not None:
                key = segment.key_frame if segment.key_frame is not None else self.inputs.plan.max_frames - 1
                _, moved, warm = hybrid.tween_motion(frame, None, moved, keys, schedule_frame=key, advance_prev=False,
                                                     advance_next=True, prev_image=image, warm=state.hybrid_flow)
                state = state.evolve(hybrid_flow=warm)
            image = self._overlay(frame, steps.grayscale_if(moved, s), None)
            state = state.evolve(prev_img=image)
            self._emit(frame, image, depth, seed, segment.tween_value(frame))
        return state

    def tweens(self, segment: Segment, state: FrameState) -> FrameState:
        """Emit the segment's cadence frames: warp both diffused frames (and the flow), blend, save."""
        if self.inputs.plan.warp_tweens:
            return self.warp_tweens(segment, state)
        s, keys = self.inputs.settings, self.inputs.keys
        prev = state.turbo_prev_img
        flow, nxt = self._cadence_flow(segment, prev, state.turbo_next_img)
        for frame in segment.tween_frames:
            seed = frame_seed(s, keys, self.inputs.base_seed, state.generation, frame)
            depth, tween = self._depth(nxt), segment.tween_value(frame)
            advance_prev, advance_next = prev is not None and frame > state.turbo_prev_idx, frame > state.turbo_next_idx
            prev = steps.warp(prev, s, keys, frame, depth) if advance_prev else prev
            nxt = steps.warp(nxt, s, keys, frame, depth) if advance_next else nxt
            if self.inputs.hybrid is not None:
                prev, nxt, warm = self.inputs.hybrid.tween_motion(
                    frame, prev, nxt, keys, schedule_frame=segment.key_frame if segment.key_frame is not None
                    else self.inputs.plan.max_frames - 1, advance_prev=advance_prev, advance_next=advance_next,
                    prev_image=state.prev_img, warm=state.hybrid_flow)
                state = state.evolve(hybrid_flow=warm)
            if flow is not None:
                flow = steps.warp(flow_to_relative(flow), s, keys, frame, depth)
                prev, nxt, image = cadence_flow_blend(
                    prev, nxt, flow, tween, keys.value("cadence_flow_factor_schedule", frame),
                    advance_prev=advance_prev, advance_next=advance_next)
            else:
                image = steps.tween_image(prev, nxt, tween)
            image = self._overlay(frame, steps.grayscale_if(image, s), None)
            state = state.evolve(turbo_prev_img=prev, turbo_next_img=nxt, turbo_prev_idx=frame,
                                 turbo_next_idx=frame, prev_img=image)
            self._emit(frame, image, depth, seed, tween)
        return state

    def _overlay(self, frame: int, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """overlay_mask: the init (or video frame) pasted back through the mask; never in Interpolation mode."""
        masks, s = self.inputs.masks, self.inputs.settings
        if masks is None or traits(s.anim.animation_mode).blends_prompts:
            return image
        if traits(s.anim.animation_mode).video_init:
            background = steps.video_init(self.inputs.video_frames, frame, s)
        else:
            background = self.inputs.init_image
        return masks.overlay(frame, image, background, mask if mask is not None else masks.base(frame))

    def _generate_image(self, request: GenerationRequest) -> np.ndarray:
        """One call to the model service."""
        return self.services.model.generate(request, self.cancel).image

    def _generate_checked(self, request: GenerationRequest) -> np.ndarray:
        """Generate, handling blank (all-black) frames as reroll_blank_frames says."""
        a = self.inputs.settings.args
        image = self._generate_image(request)
        if a.reroll_blank_frames == "ignore" or image.any():
            return image
        if a.reroll_blank_frames == "interrupt":
            raise BlankFrameStop(f"Frame {request.frame} came out blank; reroll_blank_frames is 'interrupt'.")
        for attempt in range(1, int(a.reroll_patience) + 1):
            image = self._generate_image(dataclasses.replace(request, seed=request.seed + attempt))
            if image.any():
                return image
        raise BlankFrameStop(f"Frame {request.frame} stayed blank after {int(a.reroll_patience)} rerolls "
                             "(seed +1 each); try full precision in the model service.")

    def _prefetch_noise(self, state: FrameState) -> None:
        """Draw the next diffused frame's noise field in the background while this frame generates."""
        segments, inputs = self.inputs.plan.segments, self.inputs
        following = state.next_segment + 1
        if following >= len(segments) or segments[following].key_frame is None:
            return
        params = frame_params(inputs.settings, inputs.keys, inputs.prompts, segments[following].key_frame,
                              inputs.base_seed, state.generation + 1)
        steps.prefetch_noise(self.noise, params, inputs.settings)

    def diffuse(self, frame: int, state: FrameState, strength_key: str = "strength_schedule") -> FrameState:
        """Prepare the init image, generate this frame, update the colour sample and the cadence pair."""
        s, inputs = self.inputs.settings, self.inputs
        params = frame_params(s, inputs.keys, inputs.prompts, frame, inputs.base_seed, state.generation)
        if inputs.plan.warp_tweens:
            params = dataclasses.replace(params, strength=experimental_core_strength(
                inputs.keys.value(strength_key, frame)))
        video_sample = inputs.hybrid.color_sample(frame) if inputs.hybrid is not None else None
        if video_sample is not None:
            state = state.evolve(color_sample=video_sample)
        start = self.inits.build(frame, params, state)
        self._prefetch_noise(state)
        request = steps.build_request(params, s, start.image, start.strength)
        image = self._generate_checked(dataclasses.replace(request, color_correction=start.color_correction,
                                                           mask=start.mask))
        if start.hybrid_flow is not None:
            state = state.evolve(hybrid_flow=start.hybrid_flow)
        if inputs.hybrid is not None:
            image = inputs.hybrid.after_generation(frame, image, inputs.keys)
        sample = start.color_sample
        image = steps.coherence_after_generation(image, sample, frame, s, self._prepared(sample),
                                                 video_reference=inputs.hybrid is not None)
        image = self._overlay(frame, steps.grayscale_if(image, s), start.mask)
        sample = steps.next_color_sample(image, sample, start.init_used, params.strength, s)
        state = state.evolve(prev_img=image, color_sample=sample, generation=state.generation + 1,
                             init_used=start.init_used)
        if inputs.plan.blends_tweens:
            return state.evolve(turbo_prev_img=state.turbo_next_img, turbo_prev_idx=state.turbo_next_idx,
                                turbo_next_img=image, turbo_next_idx=frame)
        self._emit(frame, image, self._depth(image) if s.anim.save_depth_maps else None, params.seed)
        return state


def render(inputs: RenderInputs, services: RenderServices, sink: FrameSink, *,
           cancel: CancelToken | None = None, progress: ProgressCallback | None = None,
           state: FrameState | None = None) -> RenderOutcome:
    """Run the plan from `state` (a resume checkpoint) or from the start; frames written stay on cancel."""
    loop = _Loop(inputs, services, sink, cancel or CancelToken(), progress)
    try:
        return _run_segments(loop, inputs, sink, state or FrameState())
    finally:
        loop.noise.close()


def _run_segments(loop: _Loop, inputs: RenderInputs, sink: FrameSink, state: FrameState) -> RenderOutcome:
    """Tweens then the key frame of each segment from `state.next_segment` on, a checkpoint after each."""
    segments = inputs.plan.segments
    for index in range(state.next_segment, len(segments)):
        if loop.cancel.cancelled:
            return RenderOutcome(loop.written, True, state)
        segment = segments[index]
        state = loop.tweens(segment, state)
        if segment.key_frame is not None:
            if loop.cancel.cancelled:
                return RenderOutcome(loop.written, True, state)
            try:
                state = loop.diffuse(segment.key_frame, state, segment.strength_key)
            except BlankFrameStop as stop:
                log.warning("%s Stopping; the frames written so far are kept.", stop)
                return RenderOutcome(loop.written, True, state)
            except RenderCancelled:
                return RenderOutcome(loop.written, True, state)
        state = state.evolve(next_segment=index + 1)
        sink.save_state(state)
    return RenderOutcome(loop.written, False, state)
