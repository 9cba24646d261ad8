"""Flux (dev/schnell) as a ModelService through diffusers' Flux txt2img and img2img pipelines.

Guidance is the Forge fork's distilled CFG scale, per frame (`distilled_cfg_scale_schedule`); CFG scale above 1
with a negative prompt runs true CFG, as in Forge. Flux samples with flow-matching Euler: the sampler "Euler" and the
WebUI schedule types that have a flow-matching form are accepted, any other name is refused with the fix. Seeds draw
the initial noise on the CPU generator. `<lora:name:weight>` tags load Flux LoRAs (transformer layers) once each.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from deforum.core.services import CancelToken, RenderCancelled
from deforum.integrations.diffusers import images
from deforum.integrations.diffusers.lora import FluxLoras, lora_folders, split_lora_tags
from deforum.integrations.diffusers.noise import fixed_seed
from deforum.integrations.diffusers.sampling import img2img_runs
from deforum.models.generation import GeneratedImage, GenerationRequest

log = logging.getLogger(__name__)

DEFAULT_DISTILLED_CFG = 3.5
FLUX_SAMPLERS = ("Euler",)
FLUX_SCHEDULES: dict[str, dict[str, bool]] = {
    "Automatic": {}, "Simple": {}, "Normal": {}, "SGM Uniform": {}, "Uniform": {},
    "Karras": {"use_karras_sigmas": True}, "Exponential": {"use_exponential_sigmas": True},
    "Beta": {"use_beta_sigmas": True},
}
SIZE_STEP = 16
PROMPT_CACHE = 8


def flux_schedule_options(sampler: str, scheduler: str, frame: int) -> dict[str, bool]:
    """The flow-matching Euler options for a WebUI (sampler, schedule type), or a ValueError saying what to use."""
    name = (sampler or "Euler").strip()
    if name not in FLUX_SAMPLERS:
        raise ValueError(f"frame {frame}: sampler {name!r} has no flow-matching form for Flux; set the sampler "
                         f"(sampler / sampler_schedule) to Euler, the Flux pipelines' flow-matching Euler")
    schedule = (scheduler or "Automatic").strip()
    if schedule not in FLUX_SCHEDULES:
        raise ValueError(f"frame {frame}: schedule type {schedule!r} is not available for Flux; use one of "
                         f"{', '.join(FLUX_SCHEDULES)} (scheduler / scheduler_schedule)")
    return FLUX_SCHEDULES[schedule]


def distilled_guidance(request: GenerationRequest) -> float:
    """This frame's distilled CFG scale (`distilled_cfg_scale_schedule`): `extra`, the request's field, else 3.5."""
    value = request.extra.get("distilled_cfg_scale", getattr(request, "distilled_cfg_scale", None))
    return DEFAULT_DISTILLED_CFG if value is None else float(value)


def pipeline_strength(steps: int, denoising_strength: float) -> float:
    """The img2img pipeline's strength that runs as many steps as the WebUI's Euler (img2img_fix_steps off)."""
    runs = min(max(img2img_runs(steps, denoising_strength, timestep_based=False), 1), steps)
    return (runs - 0.5) / steps


class FluxModelService:
    """Generates frames with a loaded FluxPipeline; img2img shares the txt2img pipeline's components."""

    def __init__(self, pipe: Any, name: str = "flux", *, models_dirs: tuple[Path, ...] = (),
                 checkpoint: Path | None = None) -> None:
        from diffusers import FluxImg2ImgPipeline

        self.pipe, self.name, self._checkpoint = pipe, name, checkpoint
        self.img2img = FluxImg2ImgPipeline(**pipe.components)
        for each in (pipe, self.img2img):
            each.set_progress_bar_config(disable=True)
        self._base_scheduler = copy.deepcopy(pipe.scheduler)
        self.lora_folders = lora_folders(models_dirs)
        self.loras = FluxLoras(pipe, self.lora_folders)
        self._prompts: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._notified: set[str] = set()

    @property
    def guided(self) -> bool:
        """True for Flux dev (a guidance embedding), False for schnell."""
        return bool(self.pipe.transformer.config.guidance_embeds)

    def generate(self, request: GenerationRequest, cancel: CancelToken | None = None) -> GeneratedImage:
        """txt2img when request.init_image is None, img2img otherwise; RenderCancelled once `cancel` is set."""
        if cancel is not None and cancel.cancelled:
            raise RenderCancelled("cancelled before generation")
        with self._lock:
            self._check_checkpoint(request)
            self._notice_unsupported(request)
            options = flux_schedule_options(request.sampler, request.scheduler, request.frame)
            seed = fixed_seed(request.seed)
            prompt = self._apply_loras(request)
            image = self._run(request, prompt, options, seed, cancel)
        return GeneratedImage(image=image, seed=seed, info=self._infotext(request, seed))

    def _run(self, request: GenerationRequest, prompt: str, options: dict[str, bool], seed: int,
             cancel: CancelToken | None) -> np.ndarray:
        """One call of the txt2img or img2img pipeline with this frame's guidance and schedule."""
        import torch

        width = max(SIZE_STEP, request.width // SIZE_STEP * SIZE_STEP)
        height = max(SIZE_STEP, request.height // SIZE_STEP * SIZE_STEP)
        scheduler = self._base_scheduler.__class__.from_config({**self._base_scheduler.config, **options})
        embeds, pooled = self._encoded(prompt)
        kwargs: dict[str, Any] = {
            "prompt_embeds": embeds, "pooled_prompt_embeds": pooled, "height": height, "width": width,
            "num_inference_steps": int(request.steps),
            "guidance_scale": distilled_guidance(request), "output_type": "np",
            "generator": torch.Generator("cpu").manual_seed(seed), "callback_on_step_end": _cancel_check(cancel)}
        if float(request.cfg_scale) > 1.0 and request.negative_prompt:
            negative, negative_pooled = self._encoded(request.negative_prompt)
            kwargs.update(true_cfg_scale=float(request.cfg_scale), negative_prompt_embeds=negative,
                          negative_pooled_prompt_embeds=negative_pooled)
        pipe = self.pipe if request.init_image is None else self.img2img
        pipe.scheduler = scheduler
        if request.init_image is not None:
            from PIL import Image

            kwargs.update(image=Image.fromarray(images.fit(request.init_image, width, height)),
                          strength=pipeline_strength(int(request.steps), float(request.denoising_strength)))
        with torch.inference_mode():
            out = pipe(**kwargs).images[0]
        return np.clip(np.rint(np.asarray(out) * 255.0), 0, 255).astype(np.uint8)

    def _apply_loras(self, request: GenerationRequest) -> str:
        """The prompt without LoRA tags, after loading new Flux LoRAs and setting this frame's weights."""
        try:
            prompt, uses = split_lora_tags(request.prompt)
        except ValueError as error:
            raise ValueError(f"frame {request.frame}: {error}") from None
        if self.loras.apply(uses, prompt=request.prompt, frame=request.frame):
            self._prompts.clear()
        return prompt

    def _encoded(self, text: str) -> tuple[Any, Any]:
        """T5 and CLIP embeddings of a prompt, from the cache when recently seen (T5 runs once per prompt)."""
        import torch

        if text in self._prompts:
            self._prompts.move_to_end(text)
            return self._prompts[text]
        with torch.inference_mode():
            embeds, pooled, _ = self.pipe.encode_prompt(prompt=text, prompt_2=None,
                                                        device=self.pipe._execution_device)
        self._prompts[text] = embeds, pooled
        if len(self._prompts) > PROMPT_CACHE:
            self._prompts.popitem(last=False)
        return embeds, pooled

    def _check_checkpoint(self, request: GenerationRequest) -> None:
        """checkpoint_schedule cannot leave the loaded Flux model: a clear error when it names another file."""
        name = (request.checkpoint or "").strip()
        if not name or self._checkpoint is None or name in (self._checkpoint.name, self._checkpoint.stem,
                                                            str(self._checkpoint)):
            return
        raise ValueError(f"frame {request.frame}: checkpoint_schedule names {name!r}, but this render runs the Flux "
                         f"model {self._checkpoint.name}; switching checkpoints is not supported with Flux. Remove "
                         "checkpoint_schedule or render each model separately.")

    def _notice_unsupported(self, request: GenerationRequest) -> None:
        """Log once per option what this service ignores."""
        ignored = {"mask": request.mask is not None, "ControlNet": bool(request.controlnet),
                   "variation seed": bool(request.subseed_strength), "tiling": request.tiling,
                   "clip skip": bool(request.clip_skip and request.clip_skip > 1),
                   "distilled CFG (schnell has no guidance)": not self.guided}
        for name, used in ignored.items():
            if used and name not in self._notified:
                self._notified.add(name)
                log.info("Deforum diffusers: %s is not supported by the Flux service and is ignored", name)

    def _infotext(self, request: GenerationRequest, seed: int) -> str:
        """WebUI-style generation parameters (Forge names the guidance 'Distilled CFG Scale')."""
        fields = [f"Steps: {request.steps}", "Sampler: Euler", f"Schedule type: {request.scheduler}",
                  f"CFG scale: {request.cfg_scale}", f"Distilled CFG Scale: {distilled_guidance(request)}",
                  f"Seed: {seed}", f"Size: {request.width}x{request.height}", f"Model: {self.name}"]
        if request.init_image is not None:
            fields.append(f"Denoising strength: {request.denoising_strength}")
        return f"{request.prompt}\nNegative prompt: {request.negative_prompt}\n{', '.join(fields)}"


def _cancel_check(cancel: CancelToken | None) -> Any:
    """A step-end callback that stops the pipeline once `cancel` is set."""

    def check(pipe: Any, step: int, timestep: Any, tensors: dict) -> dict:
        if cancel is not None and cancel.cancelled:
            raise RenderCancelled(f"cancelled at step {step}")
        return tensors

    return check


def load_flux_service(path: Path, *, device: Any, dtype: Any, models_dirs: tuple[Path, ...]) -> FluxModelService:
    """Load a Flux folder or single file offline, place it by the memory plan, and wrap it as a ModelService."""
    import torch

    from deforum.integrations.diffusers.flux_loading import load_flux_pipeline, memory_plan, place_pipeline

    flux_dtype = torch.bfloat16 if device.type == "cuda" and dtype == torch.float16 else dtype
    pipe = load_flux_pipeline(path, dtype=flux_dtype, models_dirs=models_dirs)
    total = torch.cuda.get_device_properties(device).total_memory if device.type == "cuda" else None
    place_pipeline(pipe, device, memory_plan(device.type, total))
    return FluxModelService(pipe, path.name, models_dirs=models_dirs, checkpoint=path)
