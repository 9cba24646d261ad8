"""WebUIModelService: one Deforum frame through the WebUI's own txt2img/img2img processing."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from deforum.core.services import CancelToken, RenderCancelled
from deforum.integrations.webui import host
from deforum.integrations.webui.forge_fields import forge_fields
from deforum.models.generation import GeneratedImage, GenerationRequest

log = logging.getLogger(__name__)

PAUSE_POLL_SECONDS = 0.1
# GenerationRequest field -> WebUI option, set in opts.data before each frame (restored after the run).
SCHEDULED_OPTIONS = (("clip_skip", "CLIP_stop_at_last_layers"), ("noise_multiplier", "initial_noise_multiplier"),
                     ("ddim_eta", "eta_ddim"), ("ancestral_eta", "eta_ancestral"))


def resolve_sampler(name: str, scheduler: str) -> tuple[str, str]:
    """The WebUI's sampler and schedule type for a Deforum sampler name (legacy "DPM++ 2M Karras" splits)."""
    samplers = host.module("sd_samplers")
    canonical = samplers.samplers_map.get(str(name).lower())
    if canonical is not None:
        return canonical, resolve_scheduler(scheduler)
    sampler, found = samplers.get_sampler_and_scheduler(name, scheduler, convert_automatic=False)
    if str(name).startswith(f"{sampler} ") and str(name).lower() != sampler.lower():
        return sampler, found
    names = ", ".join(host.sampler_names())
    raise ValueError(f"Setting 'sampler' (or 'sampler_schedule'): sampler {name!r} is not one of this WebUI's "
                     f"samplers. Allowed: {names}.")


def resolve_scheduler(name: str) -> str:
    """The WebUI's schedule type label for name ("Automatic" when the WebUI has no schedule types)."""
    labels = host.scheduler_names()
    if len(labels) == 1:
        return labels[0]
    for label in labels:
        if str(name).lower() == label.lower():
            return label
    raise ValueError(f"Setting 'scheduler' (or 'scheduler_schedule'): {name!r} is not one of this WebUI's "
                     f"schedule types. Allowed: {', '.join(labels)}.")


def checkpoint_title(name: str) -> str:
    """The WebUI title of the checkpoint closest to name (the checkpoint schedule's value)."""
    info = host.module("sd_models").get_closet_checkpoint_match(name)
    if info is None:
        titles = ", ".join(host.checkpoint_titles()) or "none found"
        raise ValueError(f"Setting 'checkpoint_schedule': unknown checkpoint {name!r}. Use the full name as the "
                         f"WebUI's checkpoint list shows it. Available: {titles}.")
    return str(info.title)


def check_stopped(cancel: CancelToken | None) -> None:
    """Raise RenderCancelled once the WebUI's Interrupt or the run's cancel token is set."""
    state = host.state()
    if state.interrupted or (cancel is not None and cancel.cancelled):
        if cancel is not None:
            cancel.cancel()
        raise RenderCancelled("interrupted")


def pause_point(cancel: CancelToken | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
    """Stop here while paused (Skip pressed once pauses, again resumes, as the original); raise when interrupted."""
    state = host.state()
    check_stopped(cancel)
    if not state.skipped:
        return
    state.skipped = False
    log.info("** PAUSED ** (press Pause/Resume again to continue)")
    while not state.skipped:
        check_stopped(cancel)
        sleep(PAUSE_POLL_SECONDS)
    state.skipped = False
    log.info("** RESUMING **")


class WebUIModelService:
    """Makes Deforum's frames with the WebUI's loaded model; honours Interrupt and Pause (the Skip button)."""

    def __init__(self, outpath: Path, total_frames: int = 0,
                 sleep: Callable[[float], None] = time.sleep, external_code: Any | None = None) -> None:
        self.outpath = str(outpath)
        self.total_frames = total_frames
        self.external_code = external_code
        self.sleep = sleep

    def generate(self, request: GenerationRequest, cancel: CancelToken | None = None) -> GeneratedImage:
        """Generate one frame; a frame cut short by Pause is generated again after Resume."""
        processing = host.module("processing")
        while True:
            pause_point(cancel, self.sleep)
            p = self.build(request)
            self._announce(request.frame)
            try:
                processed = self._process(processing, p, request)
            finally:
                p.close()
            check_stopped(cancel)
            if not host.state().skipped:
                return self._result(processed, request)
            log.info("Frame %d was paused while generating: it is generated again on resume.", request.frame)

    def _process(self, processing: Any, p: Any, request: GenerationRequest) -> Any:
        """process_images, with the request's ControlNet units and detected maps in the output folder."""
        if not request.controlnet:
            return processing.process_images(p)
        from deforum.integrations.webui.controlnet import attach_units, detected_map_options
        from deforum.integrations.webui.options import OptionsOverride

        attach_units(p, request, self.external_code)
        with OptionsOverride(host.opts(), detected_map_options(Path(self.outpath)), remember=()):
            return processing.process_images(p)

    def _announce(self, frame: int) -> None:
        """Tell the WebUI's progress which frame is being made."""
        state = host.state()
        total = self.total_frames or frame + 1
        state.job = f"frame {frame + 1}/{total}"
        state.job_no = frame
        state.job_count = max(total, 1)

    def build(self, request: GenerationRequest) -> Any:
        """The WebUI processing object for a request: img2img with an init image, txt2img without."""
        _set_scheduled_options(request)
        processing = host.module("processing")
        forge = forge_fields(request, processing.StableDiffusionProcessing)
        if request.init_image is None:
            return processing.StableDiffusionProcessingTxt2Img(**self._common(request), enable_hr=False,
                                                              denoising_strength=0, **forge)
        return processing.StableDiffusionProcessingImg2Img(**self._common(request), **_img2img_fields(request),
                                                           **forge)

    def _common(self, request: GenerationRequest) -> dict[str, Any]:
        """Fields both processing classes take, as the original's pipeline set them."""
        sampler, scheduler = resolve_sampler(request.sampler, request.scheduler)
        return dict(
            sd_model=host.shared().sd_model, outpath_samples=self.outpath, outpath_grids=self.outpath,
            prompt=request.prompt, negative_prompt=request.negative_prompt, styles=[], seed=request.seed,
            subseed=request.subseed, subseed_strength=request.subseed_strength,
            seed_resize_from_h=request.seed_resize_from_h, seed_resize_from_w=request.seed_resize_from_w,
            sampler_name=sampler, scheduler=scheduler, batch_size=1, n_iter=1, steps=request.steps,
            cfg_scale=request.cfg_scale, width=request.width, height=request.height,
            restore_faces=request.restore_faces, tiling=request.tiling, do_not_save_samples=True,
            do_not_save_grid=True, override_settings=_checkpoint_override(request.checkpoint),
        )

    def _result(self, processed: Any, request: GenerationRequest) -> GeneratedImage:
        """The first image of a processing result as an RGB array, shown as the WebUI's live preview."""
        if not processed.images:
            raise RuntimeError(f"The WebUI returned no image for frame {request.frame}.")
        image = processed.images[0].convert("RGB")
        host.state().assign_current_image(image)
        seed = int(getattr(processed, "seed", request.seed))
        return GeneratedImage(image=np.array(image, dtype=np.uint8), seed=seed, info=str(processed.info or ""))


def _img2img_fields(request: GenerationRequest) -> dict[str, Any]:
    """The img2img-only fields: init image, denoise, inpainting mask options, pix2pix image CFG."""
    mask = None if request.mask is None else Image.fromarray(np.asarray(request.mask, dtype=np.uint8)).convert("L")
    return dict(
        init_images=[Image.fromarray(np.asarray(request.init_image, dtype=np.uint8)).convert("RGB")],
        resize_mode=0, denoising_strength=request.denoising_strength, image_cfg_scale=request.pix2pix_img_cfg_scale,
        mask=mask, mask_blur=request.mask_blur, inpainting_fill=request.fill, inpaint_full_res=request.full_res_mask,
        inpaint_full_res_padding=request.full_res_mask_padding, inpainting_mask_invert=int(request.invert_mask),
    )


def _checkpoint_override(checkpoint: str | None) -> dict[str, Any]:
    """The WebUI's per-generation checkpoint override for a scheduled checkpoint (none when not scheduled)."""
    return {"sd_model_checkpoint": checkpoint_title(checkpoint)} if checkpoint else {}


def _set_scheduled_options(request: GenerationRequest) -> None:
    """Write the frame's scheduled clip skip, noise multiplier and etas into the WebUI options (as the original)."""
    data = host.opts().data
    for field_name, option_key in SCHEDULED_OPTIONS:
        value = getattr(request, field_name)
        if value is not None:
            data[option_key] = value
