"""The init image of each diffused frame, by animation mode: warped previous frame, video frame, guide or none."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from deforum.core import redo, steps
from deforum.core.frame_params import FrameParams
from deforum.core.guided import guided_init, parse_guided_images
from deforum.core.inputs import RenderInputs
from deforum.core.services import FlowEstimator
from deforum.core.state import FrameState
from deforum.media.color import ColorReference
from deforum.media.frames_io import load_image_source
from deforum.media.noise import NoiseFields
from deforum.models.generation import GenerationRequest
from deforum.models.modes import traits

Generate = Callable[[GenerationRequest], np.ndarray]
Depth = Callable[[np.ndarray | None], np.ndarray | None]
Prepared = Callable[[np.ndarray | None], ColorReference | None]


@dataclass(frozen=True)
class FrameInit:
    """How a diffused frame starts: its init image (None: txt2img), strength, colour sample and correction."""

    image: np.ndarray | None
    strength: float
    init_used: bool
    color_sample: np.ndarray | None
    color_correction: np.ndarray | None = None
    mask: np.ndarray | None = None
    hybrid_flow: np.ndarray | None = None


class InitBuilder:
    """Builds each diffused frame's FrameInit from the render inputs and the current state."""

    def __init__(self, inputs: RenderInputs, flow: FlowEstimator | None, generate: Generate, depth: Depth,
                 prepared: Prepared, noise: NoiseFields | None = None) -> None:
        self.inputs, self.flow, self.noise = inputs, flow, noise
        self.generate, self.depth, self.prepared = generate, depth, prepared
        settings = inputs.settings
        looping = settings.loop.use_looper and traits(settings.anim.animation_mode).camera_motion
        self.guided = parse_guided_images(settings.loop.init_images, settings.anim.max_frames) if looping else None

    def build(self, frame: int, params: FrameParams, state: FrameState) -> FrameInit:
        """The FrameInit of `frame`, with its inpainting mask."""
        start = self._build(frame, params, state)
        masks = self.inputs.masks
        if masks is None or start.mask is not None or start.image is None:
            return start
        return dataclasses.replace(start, mask=masks.generation_mask(frame, start.image, composed=False))

    def _build(self, frame: int, params: FrameParams, state: FrameState) -> FrameInit:
        """The FrameInit of `frame` by animation mode."""
        settings = self.inputs.settings
        mode = traits(settings.anim.animation_mode)
        if mode.video_init:
            image = steps.video_init(self.inputs.video_frames, frame, settings)
            return FrameInit(image, params.strength, True, state.color_sample)
        if self.guided is not None:
            return self._guided(frame, params, state)
        if mode.blends_prompts or state.prev_img is None:
            image, strength = self._first_init()
            return FrameInit(image, strength, image is not None or state.init_used, state.color_sample)
        image, sample, mask, flow = self._warped(frame, params, state)
        return FrameInit(image, params.strength, True, sample, mask=mask, hybrid_flow=flow)

    def _guided(self, frame: int, params: FrameParams, state: FrameState) -> FrameInit:
        """Guided images: the first guide starts the animation, later inits are blended toward the guides."""
        keys, size = self.inputs.keys, steps.frame_size(self.inputs.settings)
        strength = min(1.0, max(0.0, keys.value("image_strength_schedule", frame)))
        if state.prev_img is None:
            first = load_image_source(self.guided.sources[0], size, setting="init_images")
            return FrameInit(first, strength, True, state.color_sample)
        image, sample, mask, flow = self._warped(frame, params, state)
        blended, correction = guided_init(image, self.guided, keys, frame, size)
        return FrameInit(blended, strength, True, sample, correction, mask, flow)

    def _first_init(self) -> tuple[np.ndarray | None, float]:
        """The first frame: the init image at `strength`, or txt2img (strength 0 without an init)."""
        a = self.inputs.settings.args
        if self.inputs.init_image is not None:
            return self.inputs.init_image, min(1.0, max(0.0, a.strength))
        return None, 0.0 if a.strength_0_no_init else a.strength

    def _warped(self, frame: int, params: FrameParams, state: FrameState) -> tuple[
            np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """2D/3D: the previous frame warped, colour-matched, contrasted, sharpened and noised; sample; mask; the
        hybrid warm flow to carry on."""
        s, keys, masks = self.inputs.settings, self.inputs.keys, self.inputs.masks
        warped = steps.warp(state.prev_img, s, keys, frame, self.depth(state.prev_img))
        flow = state.hybrid_flow
        if self.inputs.hybrid is not None:
            warped, flow = self.inputs.hybrid.before_generation(frame, warped, keys, flow)
        warped, sample = steps.coherence_before_generation(warped, state.color_sample, s,
                                                           self.prepared(state.color_sample))
        warped = steps.grayscale_if(warped, s)
        noise_mask = masks.noise_mask(frame, warped) if masks else None
        sharpen_mask = masks.init_alpha if masks and masks.use_mask else None
        init = steps.prepare_init(warped, params, s, noise_mask=noise_mask, sharpen_mask=sharpen_mask,
                                  fields=self.noise)
        mask = masks.generation_mask(frame, init, composed=True) if masks else None
        if self.inputs.preview or params.strength <= 0:
            return init, sample, mask, flow
        request = dataclasses.replace(steps.build_request(params, s, init, params.strength), mask=mask)
        return self._redo(request, warped, state), sample, mask, flow

    def _redo(self, request: GenerationRequest, warped: np.ndarray, state: FrameState) -> np.ndarray:
        """Optical-flow redo, then diffusion redo, each replacing the init image."""
        anim, seed = self.inputs.settings.anim, self.inputs.base_seed
        init = request.init_image
        if anim.optical_flow_redo_generation != "None":
            init = redo.optical_flow_redo(
                request, warped, anim.optical_flow_redo_generation,
                float(self.inputs.keys.value("redo_flow_factor_schedule", request.frame)), self.generate,
                redo.redo_seed(seed, state.generation, "flow", 0), raft=self.flow)
        times = int(anim.diffusion_redo)
        if times > 0:
            seeds = [redo.redo_seed(seed, state.generation, "diffusion", n) for n in range(times)]
            init = redo.diffusion_redo(dataclasses.replace(request, init_image=init), seeds, self.generate)
        return init
