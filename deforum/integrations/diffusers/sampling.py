"""The denoising loop over diffusers components: WebUI step counts, classifier-free guidance, masks, cancel."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from deforum.core.services import CancelToken, RenderCancelled
from deforum.integrations.diffusers.prompts import Conditioning

SOFT_DECAY = 0.825  # the ControlNet extension's per-block fade for soft injection (the deepest block weighs most)


@dataclass(frozen=True)
class ControlStep:
    """One ControlNet in the loop: model, control image (1×3×H×W in [0, 1]), weight and guidance range."""

    model: Any
    image: Any
    weight: float
    start: float = 0.0
    end: float = 1.0
    soft: bool = False
    cond_only: bool = False

    def active(self, index: int, total: int) -> bool:
        """Diffusers' rule: off while the step starts before `start` or ends after `end` (fractions of the steps)."""
        return not (index / total < self.start or (index + 1) / total > self.end)

    def scales(self, count: int) -> list[float]:
        """Weights of the `count` residuals (down blocks, then mid): soft injection fades the shallow ones."""
        if not self.soft:
            return [self.weight] * count
        return [self.weight * SOFT_DECAY ** (count - 1 - i) for i in range(count)]


@dataclass
class Job:
    """The tensors of one generation. `mask` is 1 where the image is regenerated (latent resolution)."""

    latents: Any
    noise: Any
    conditioning: Conditioning
    cfg_scale: float
    generator: Any
    seed: int = 0
    init_latent: Any = None
    mask: Any = None
    image_cond: Any = None
    time_ids: Any = None
    eta: float = 0.0
    controls: tuple[ControlStep, ...] = field(default_factory=tuple)


def img2img_runs(steps: int, denoising_strength: float, timestep_based: bool) -> int:
    """How many of `steps` an img2img pass runs, counted as the WebUI does with img2img_fix_steps off."""
    t_enc = int(min(denoising_strength, 0.999) * steps)
    return t_enc if timestep_based else t_enc + 1


def img2img_timesteps(scheduler: Any, steps: int, runs: int) -> Any:
    """The last `runs` steps of the scheduler's `steps`-step schedule; the scheduler is told where it begins."""
    start = max(steps - runs, 0) * scheduler.order
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(start)
    return scheduler.timesteps[start:]


@cache
def _step_parameters(cls: type) -> frozenset[str]:
    """Keyword arguments a scheduler's step() takes."""
    return frozenset(inspect.signature(cls.step).parameters)


def step_kwargs(scheduler: Any, job: Job) -> dict[str, Any]:
    """The generator (ancestral/SDE noise) and eta (DDIM) for the scheduler's step()."""
    accepted = _step_parameters(type(scheduler))
    kwargs: dict[str, Any] = {"return_dict": False}
    if "generator" in accepted:
        kwargs["generator"] = job.generator
    if "eta" in accepted:
        kwargs["eta"] = job.eta
    return kwargs


def _guidance_inputs(job: Job, device: Any) -> tuple[Any, dict | None, bool]:
    """Text context, SDXL added conditions and whether to run the unconditional pass."""
    import torch

    cond = job.conditioning
    guided = job.cfg_scale != 1.0
    context = torch.cat([cond.uncond, cond.cond]) if guided else cond.cond
    if job.time_ids is None:
        return context, None, guided
    pooled = torch.cat([cond.uncond_pooled, cond.pooled]) if guided else cond.pooled
    time_ids = job.time_ids.repeat(2 if guided else 1, 1)
    return context, {"text_embeds": pooled.to(device), "time_ids": time_ids.to(device)}, guided


def control_residuals(controls: tuple[ControlStep, ...], x: Any, t: Any, inputs: tuple,
                      step: tuple[int, int]) -> dict[str, Any]:
    """The summed ControlNet residuals for the UNet's down and mid blocks ({} when no unit is active)."""
    import torch

    context, added, guided = inputs
    down, mid = None, None
    for control in controls:
        if not control.active(*step):
            continue
        kwargs = {"added_cond_kwargs": added} if added is not None else {}
        cond = control.image.expand(x.shape[0], -1, -1, -1)
        blocks, middle = control.model(x, t, encoder_hidden_states=context, controlnet_cond=cond,
                                       return_dict=False, **kwargs)
        scales = control.scales(len(blocks) + 1)
        gate = torch.tensor([0.0, 1.0], device=x.device, dtype=x.dtype).view(2, 1, 1, 1) \
            if control.cond_only and guided else 1.0
        blocks = [block * scale * gate for block, scale in zip(blocks, scales[:-1], strict=True)]
        middle = middle * scales[-1] * gate
        down = blocks if down is None else [a + b for a, b in zip(down, blocks, strict=True)]
        mid = middle if mid is None else mid + middle
    if down is None:
        return {}
    return {"down_block_additional_residuals": down, "mid_block_additional_residual": mid}


def _predict(unet: Any, scheduler: Any, x: Any, t: Any, job: Job, inputs: tuple, step: tuple[int, int]) -> Any:
    """One guided model prediction at timestep t (step = (index, total) for the ControlNet guidance range)."""
    import torch

    context, added, guided = inputs
    scaled = scheduler.scale_model_input(x, t)
    latent_in = (torch.cat([scaled, scaled]) if guided else scaled).to(context.dtype)
    model_in = latent_in
    if job.image_cond is not None:
        extra = job.image_cond.repeat(2 if guided else 1, 1, 1, 1)
        model_in = torch.cat([model_in, extra.to(model_in.dtype)], dim=1)
    kwargs = {"added_cond_kwargs": added} if added is not None else {}
    kwargs.update(control_residuals(job.controls, latent_in, t, inputs, step))
    pred = unet(model_in, t, encoder_hidden_states=context, **kwargs).sample
    if not guided:
        return pred
    uncond, cond = pred.chunk(2)
    return uncond + job.cfg_scale * (cond - uncond)


def _keep_unmasked(scheduler: Any, x: Any, job: Job, next_t: Any) -> Any:
    """Re-impose the init latent (noised to the next level) outside the mask, for non-inpainting models."""
    reference = job.init_latent if next_t is None else scheduler.add_noise(job.init_latent, job.noise, next_t)
    return reference * (1.0 - job.mask) + x * job.mask


def denoise(unet: Any, scheduler: Any, timesteps: Any, job: Job, cancel: CancelToken | None) -> Any:
    """Run the schedule from job.latents; raises RenderCancelled between steps once `cancel` is set."""
    import torch

    x = job.latents
    inputs = _guidance_inputs(job, x.device)
    kwargs = step_kwargs(scheduler, job)
    blend = job.mask is not None and job.image_cond is None
    with torch.inference_mode():
        for index, t in enumerate(timesteps):
            if cancel is not None and cancel.cancelled:
                raise RenderCancelled("cancelled during sampling")
            pred = _predict(unet, scheduler, x, t, job, inputs, (index, len(timesteps)))
            x = scheduler.step(pred.to(x.dtype), t, x, **kwargs)[0]
            if blend:
                next_t = timesteps[index + 1:index + 2] if index + 1 < len(timesteps) else None
                x = _keep_unmasked(scheduler, x, job, next_t)
    if job.mask is not None:
        x = job.init_latent * (1.0 - job.mask) + x * job.mask
    if not bool(torch.isfinite(x).all()):
        raise FloatingPointError("the sampler produced NaN/inf latents (a float16 overflow? try dtype='float32')")
    return x


def vae_encode(vae: Any, pixels: Any) -> Any:
    """Pixels in [-1, 1] → scaled latents (the posterior mean)."""
    import torch

    with torch.inference_mode():
        latents = vae.encode(pixels.to(vae.dtype)).latent_dist.mode()
    shift = getattr(vae.config, "shift_factor", None) or 0.0
    return (latents - shift) * vae.config.scaling_factor


def vae_decode(vae: Any, latents: Any) -> Any:
    """Scaled latents → pixels in [-1, 1]."""
    import torch

    shift = getattr(vae.config, "shift_factor", None) or 0.0
    with torch.inference_mode():
        return vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor + shift).sample
