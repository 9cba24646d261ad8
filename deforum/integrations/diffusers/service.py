"""Standalone generation: a ModelService over diffusers for local WebUI checkpoints (SD 1.x, SD 2.x, SDXL).

Seeds follow the WebUI with its "CPU" random number source (see `diffusers.noise`); samplers and schedule types
use WebUI names (see `diffusers.samplers`); img2img runs the WebUI's step count (img2img_fix_steps off); ControlNet
units use diffusers ControlNet models from the WebUI's models/ControlNet folder (see `diffusers.controlnet`).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from deforum.core.services import CancelToken, RenderCancelled
from deforum.integrations.diffusers import images, sampling
from deforum.integrations.diffusers.controlnet import FOLDER_NAME, ControlNetModels
from deforum.integrations.diffusers.embeddings import Embeddings, embedding_folders
from deforum.integrations.diffusers.lora import LoraAdapters, lora_folders, split_lora_tags
from deforum.integrations.diffusers.noise import NoiseSpec, first_noise, fixed_seed, seeded_randn
from deforum.integrations.diffusers.samplers import (
    SAMPLER_NAMES,
    SCHEDULER_NAMES,
    SamplerChoice,
    make_scheduler,
    resolve_sampler,
)
from deforum.integrations.diffusers.unet_tweaks import apply_freeu, deep_shrink
from deforum.models.generation import GeneratedImage, GenerationRequest

__all__ = ["DiffusersModelService", "load_model_service", "resolve_sampler", "SAMPLER_NAMES", "SCHEDULER_NAMES"]

log = logging.getLogger(__name__)
SCHEDULER_CACHE = 16
FILL_FILL, FILL_ORIGINAL, FILL_NOISE, FILL_NOTHING = range(4)


class DiffusersModelService:
    """Generates frames with a loaded diffusers model; reloads only when a request names another checkpoint."""

    def __init__(self, parts: Any, *, loader: Any = None, checkpoint: Path | None = None,
                 search_dirs: tuple[Path, ...] = (), controlnet_dir: Path | None = None,
                 models_dirs: tuple[Path, ...] = ()) -> None:
        self.parts = parts
        self._loader, self._checkpoint, self._search_dirs = loader, checkpoint, search_dirs
        self.controlnets = ControlNetModels(controlnet_dir)
        self.lora_folders = lora_folders(models_dirs)
        self._embedding_folders = embedding_folders(models_dirs)
        self.loras = LoraAdapters(parts, self.lora_folders)
        self.embeddings = Embeddings(parts, self._embedding_folders)
        self._schedulers: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._notified: set[str] = set()

    @classmethod
    def from_pipeline(cls, pipe: Any, name: str = "pipeline", *,
                      controlnet_dir: Path | None = None, models_dir: Path | None = None) -> DiffusersModelService:
        """Wrap an already built diffusers StableDiffusion(XL)Pipeline (its components are used as they are)."""
        from deforum.integrations.diffusers.parts import parts_from_pipeline

        return cls(parts_from_pipeline(pipe, name=name), controlnet_dir=controlnet_dir,
                   models_dirs=(models_dir,) if models_dir else ())

    def generate(self, request: GenerationRequest, cancel: CancelToken | None = None) -> GeneratedImage:
        """txt2img when request.init_image is None, img2img otherwise; RenderCancelled once `cancel` is set."""
        if cancel is not None and cancel.cancelled:
            raise RenderCancelled("cancelled before generation")
        with self._lock:
            self._switch_checkpoint(request.checkpoint)
            self._notice_unsupported(request)
            choice = resolve_sampler(request.sampler, request.scheduler)
            seed = fixed_seed(request.seed)
            image = self._generate(request, choice, seed, cancel)
        return GeneratedImage(image=image, seed=seed, info=self._infotext(request, choice, seed))

    def _generate(self, request: GenerationRequest, choice: SamplerChoice, seed: int,
                  cancel: CancelToken | None) -> np.ndarray:
        """Prepare noise, conditioning and init latents, denoise, decode."""
        parts = self.parts
        factor = parts.vae_factor
        width, height = request.width // factor * factor, request.height // factor * factor
        if width <= 0 or height <= 0:
            raise ValueError(f"size {request.width}×{request.height} is smaller than {factor} pixels")
        shape = (parts.latent_channels, height // factor, width // factor)
        spec = NoiseSpec(shape, seed, fixed_seed(request.subseed), float(request.subseed_strength or 0.0),
                         (request.seed_resize_from_w, request.seed_resize_from_h))
        noise, generator = first_noise(spec, factor)
        noise = noise.to(parts.device)
        conditioning = parts.prompts.conditioning(*self._prompts(request), request.clip_skip)
        job = sampling.Job(latents=noise, noise=noise, conditioning=conditioning, cfg_scale=float(request.cfg_scale),
                           generator=generator, seed=seed, eta=float(request.ddim_eta or 0.0),
                           time_ids=self._time_ids(width, height),
                           controls=self.controlnets.steps(request.controlnet, parts, width, height))
        scheduler = self._scheduler(choice, int(request.steps))
        self._set_tiling(bool(request.tiling))
        with self._unet_tweaks(request):
            if request.init_image is None:
                return self._txt2img(request, job, scheduler, cancel)
            return self._img2img(request, job, scheduler, choice, cancel, (width, height))

    @contextlib.contextmanager
    def _unet_tweaks(self, request: GenerationRequest) -> Iterator[None]:
        """The frame's FreeU and Kohya deep shrink on the UNet (each noted once when this model cannot take it)."""
        if not apply_freeu(self.parts.unet, request.freeu):
            self._notice_once("FreeU", "this model has no FreeU")
        shrink = request.deep_shrink
        if shrink is not None and request.controlnet:
            self._notice_once("deep shrink", "Kohya deep shrink is skipped on frames with ControlNet units")
            shrink = None
        with deep_shrink(self.parts.unet, shrink) as applied:
            if not applied:
                self._notice_once("deep shrink", "this model has no UNet blocks to shrink")
            yield

    def _notice_once(self, name: str, why: str) -> None:
        """Log once per run what this service cannot do."""
        if name not in self._notified:
            self._notified.add(name)
            log.info("Deforum diffusers: %s is ignored: %s", name, why)

    def _prompts(self, request: GenerationRequest) -> tuple[str, str]:
        """Prompt and negative prompt as the text encoders read them: this frame's LoRA weights set, embeddings in."""
        try:
            prompt, uses = split_lora_tags(request.prompt)
        except ValueError as error:
            raise ValueError(f"frame {request.frame}: {error}") from None
        changed = self.loras.apply(uses, prompt=request.prompt, frame=request.frame)
        (prompt, new), (negative, new_negative) = map(self.embeddings.expand, (prompt, request.negative_prompt))
        if changed or new or new_negative:
            self.parts.prompts.forget()
        return prompt, negative

    def _txt2img(self, request: GenerationRequest, job: sampling.Job, scheduler: Any,
                 cancel: CancelToken | None) -> np.ndarray:
        """Denoise pure noise over the whole schedule."""
        if request.mask is not None:
            raise ValueError("a mask needs an init image (inpainting is img2img)")
        parts = self.parts
        timesteps = scheduler.timesteps
        job.latents = job.noise * scheduler.init_noise_sigma
        if parts.inpainting:
            job.image_cond = self._image_cond(np.zeros((*self._pixel_size(job), 3), np.uint8), None)
        latents = sampling.denoise(parts.unet, scheduler, timesteps, job, cancel)
        return images.from_tensor(sampling.vae_decode(parts.vae, latents))

    def _img2img(self, request: GenerationRequest, job: sampling.Job, scheduler: Any, choice: SamplerChoice,
                 cancel: CancelToken | None, size: tuple[int, int]) -> np.ndarray:
        """Noise the init image's latents to the start of the last steps and denoise; paste back outside the mask."""
        parts = self.parts
        width, height = size
        original = images.fit(request.init_image, width, height)
        mask = None if request.mask is None else images.prepare_mask(
            request.mask, width, height, invert=bool(request.invert_mask), blur=float(request.mask_blur or 0))
        pixels = original if mask is None or request.fill == FILL_ORIGINAL else images.fill_masked(original, mask.soft)
        pixel_tensor = images.to_tensor(pixels, parts.device, parts.vae.dtype)
        job.init_latent = sampling.vae_encode(parts.vae, pixel_tensor).float()
        if request.noise_multiplier is not None and request.noise_multiplier != 1.0:
            job.noise = job.noise * float(request.noise_multiplier)
        if mask is not None:
            self._apply_mask(job, mask, request)
        if parts.inpainting:
            job.image_cond = self._image_cond(original, mask)
        latents = self._run_img2img(request, job, scheduler, choice, cancel)
        result = images.from_tensor(sampling.vae_decode(parts.vae, latents))
        return result if mask is None else images.overlay(result, original, mask.overlay)

    def _run_img2img(self, request: GenerationRequest, job: sampling.Job, scheduler: Any, choice: SamplerChoice,
                     cancel: CancelToken | None) -> Any:
        """The last steps of the schedule from the noised init latent (the init latent itself when none run)."""
        runs = sampling.img2img_runs(int(request.steps), float(request.denoising_strength), choice.timestep_based)
        if runs <= 0:
            return job.init_latent
        timesteps = sampling.img2img_timesteps(scheduler, int(request.steps), runs)
        job.latents = scheduler.add_noise(job.init_latent, job.noise, timesteps[:1])
        return sampling.denoise(self.parts.unet, scheduler, timesteps, job, cancel)

    def _apply_mask(self, job: sampling.Job, mask: images.Mask, request: GenerationRequest) -> None:
        """Latent mask, and the masked content of fill modes 2 (latent noise) and 3 (latent nothing)."""
        import torch

        shape = job.noise.shape[2:]
        job.mask = torch.from_numpy(mask.latent(*shape)).to(job.noise.device)[None, None]
        if request.fill not in (FILL_FILL, FILL_ORIGINAL, FILL_NOISE, FILL_NOTHING):
            raise ValueError(f"mask fill {request.fill!r} is not one of 0 fill, 1 original, 2 latent noise, "
                             "3 latent nothing")
        if request.fill == FILL_NOISE:
            fresh = seeded_randn(job.seed, tuple(job.noise.shape[1:]))[None].to(job.noise.device)
            job.init_latent = job.init_latent * (1.0 - job.mask) + fresh * job.mask
        elif request.fill == FILL_NOTHING:
            job.init_latent = job.init_latent * (1.0 - job.mask)

    def _image_cond(self, original: np.ndarray, mask: images.Mask | None) -> Any:
        """Inpainting-UNet conditioning: the latent mask and the latents of the image grayed where regenerated."""
        import torch

        parts = self.parts
        height, width = original.shape[:2]
        factor = parts.vae_factor
        regen = np.ones((height, width), np.float32) if mask is None else np.around(mask.soft)
        small = np.ones((height // factor, width // factor), np.float32) if mask is None else \
            mask.latent(height // factor, width // factor)
        masked = (original.astype(np.float32) * (1.0 - regen[..., None]) + 127.5 * regen[..., None]).astype(np.uint8)
        latents = sampling.vae_encode(parts.vae, images.to_tensor(masked, parts.device, parts.vae.dtype)).float()
        return torch.cat([torch.from_numpy(small).to(parts.device)[None, None], latents], dim=1)

    def _pixel_size(self, job: sampling.Job) -> tuple[int, int]:
        """(height, width) in pixels of the job's latents."""
        factor = self.parts.vae_factor
        return job.noise.shape[2] * factor, job.noise.shape[3] * factor

    def _time_ids(self, width: int, height: int) -> Any:
        """SDXL's size conditioning (original size, crop 0,0, target size), None for SD 1.x/2.x."""
        import torch

        if not self.parts.sdxl:
            return None
        return torch.tensor([[height, width, 0, 0, height, width]], dtype=self.parts.dtype, device=self.parts.device)

    def _scheduler(self, choice: SamplerChoice, steps: int) -> Any:
        """A fresh copy of the (sampler, schedule, steps) scheduler with its timesteps set, built once and cached."""
        if steps < 1:
            raise ValueError(f"steps must be at least 1, got {steps}")
        key = (choice.key, int(steps))
        prepared = self._schedulers.get(key)
        if prepared is None:
            prepared = make_scheduler(choice, self.parts.scheduler_config)
            prepared.set_timesteps(int(steps), device=self.parts.device)
            self._schedulers[key] = prepared
            if len(self._schedulers) > SCHEDULER_CACHE:
                self._schedulers.popitem(last=False)
        self._schedulers.move_to_end(key)
        return copy.deepcopy(prepared)

    def _set_tiling(self, enabled: bool) -> None:
        """Seamless tiling: circular padding in the UNet's and VAE's convolutions."""
        import torch

        mode = "circular" if enabled else "zeros"
        if self.parts.tiling_mode == mode:
            return
        for module in (*self.parts.unet.modules(), *self.parts.vae.modules()):
            if isinstance(module, torch.nn.Conv2d):
                module.padding_mode = mode
        self.parts.tiling_mode = mode

    def _notice_unsupported(self, request: GenerationRequest) -> None:
        """Log once per option what this service ignores."""
        ignored = {"restore_faces": request.restore_faces, "ancestral_eta": request.ancestral_eta is not None,
                   "full_res_mask": request.mask is not None and request.full_res_mask,
                   "ControlNet low_vram": any(unit.low_vram for unit in request.controlnet),
                   "ControlNet mask": any(unit.mask is not None for unit in request.controlnet)}
        for name, used in ignored.items():
            if used and name not in self._notified:
                self._notified.add(name)
                log.info("Deforum diffusers: %s is not supported by the diffusers service and is ignored", name)

    def _switch_checkpoint(self, name: str | None) -> None:
        """Load the checkpoint a request names, only when it differs from the loaded one."""
        if not name or self._loader is None:
            return
        from deforum.integrations.diffusers.loading import resolve_checkpoint

        path = resolve_checkpoint(name, list(self._search_dirs)).resolve()
        if path == self._checkpoint:
            return
        log.info("Deforum diffusers: switching checkpoint to %s", path)
        self.parts = None
        self._schedulers.clear()
        self.controlnets.clear()
        _free_memory()
        self.parts, self._checkpoint = self._loader(path), path
        self.loras = LoraAdapters(self.parts, self.lora_folders)
        self.embeddings = Embeddings(self.parts, self._embedding_folders)

    def _infotext(self, request: GenerationRequest, choice: SamplerChoice, seed: int) -> str:
        """WebUI-style generation parameters."""
        fields = [f"Steps: {request.steps}", f"Sampler: {choice.sampler}", f"Schedule type: {choice.schedule}",
                  f"CFG scale: {request.cfg_scale}", f"Seed: {seed}",
                  f"Size: {request.width // 8 * 8}x{request.height // 8 * 8}", f"Model: {self.parts.name}"]
        if request.init_image is not None:
            fields.append(f"Denoising strength: {request.denoising_strength}")
        if request.subseed_strength:
            fields += [f"Variation seed: {request.subseed}", f"Variation seed strength: {request.subseed_strength}"]
        if request.clip_skip:
            fields.append(f"Clip skip: {request.clip_skip}")
        fields += [f'ControlNet {u.number - 1}: "Module: {u.module}, Model: {u.model}, Weight: {u.weight:g}, '
                   f'Guidance Start: {u.guidance_start:g}, Guidance End: {u.guidance_end:g}"'
                   for u in request.controlnet]
        return f"{request.prompt}\nNegative prompt: {request.negative_prompt}\n{', '.join(fields)}"


def _free_memory() -> None:
    """Release the previous model's memory before loading the next one."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def load_model_service(path: str, *, device: str | None = None, dtype: str | None = None,
                       models_dir: str | None = None, tokenizer_dir: str | None = None,
                       config_dir: str | None = None) -> Any:
    """Load a local checkpoint (.safetensors/.ckpt or diffusers folder; Flux too) offline as a ModelService."""
    from deforum.integrations.diffusers.flux_loading import is_flux
    from deforum.integrations.diffusers.loading import default_models_dir, load_parts
    from deforum.integrations.diffusers.parts import pick_device, pick_dtype

    checkpoint = Path(path).expanduser().resolve()
    torch_device = pick_device(device)
    torch_dtype = pick_dtype(dtype, torch_device)
    models = Path(models_dir).expanduser() if models_dir else default_models_dir(checkpoint)
    if is_flux(checkpoint):
        from deforum.integrations.diffusers.flux import load_flux_service

        return load_flux_service(checkpoint, device=torch_device, dtype=torch_dtype, models_dirs=(models,))
    configs = Path(config_dir).expanduser() if config_dir else None

    def loader(target: Path) -> Any:
        return load_parts(target, device=torch_device, dtype=torch_dtype, models_dir=models,
                          tokenizer_dir=tokenizer_dir, config_dir=configs)

    search = tuple(dict.fromkeys((checkpoint.parent, models, models / "Stable-diffusion")))
    return DiffusersModelService(loader(checkpoint), loader=loader, checkpoint=checkpoint, search_dirs=search,
                                 controlnet_dir=models / FOLDER_NAME, models_dirs=(models,))
