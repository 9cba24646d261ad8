"""Per-frame parameters read from the schedules: strength, seed, prompt, sampler... as one frozen value."""

from __future__ import annotations

from dataclasses import dataclass

from deforum.animation.keys import AnimationKeys
from deforum.animation.seeds import seed_for_generation
from deforum.models.generation import DeepShrink, FreeU
from deforum.models.settings import Settings


@dataclass(frozen=True)
class FrameParams:
    """What the schedules say for one diffused frame."""

    frame: int
    seed: int
    strength: float
    cfg_scale: float
    steps: int
    sampler: str
    prompt: str
    negative_prompt: str
    noise: float
    contrast: float
    kernel: int
    sigma: float
    amount: float
    threshold: float
    subseed: int
    subseed_strength: float
    checkpoint: str | None
    clip_skip: int | None
    noise_multiplier: float | None
    ddim_eta: float | None
    ancestral_eta: float | None
    pix2pix_img_cfg_scale: float
    scheduler: str
    distilled_cfg_scale: float
    freeu: FreeU | None = None
    deep_shrink: DeepShrink | None = None


def _optional(enabled: bool, keys: AnimationKeys, key: str, frame: int, cast: type) -> object | None:
    """A scheduled value when its scheduling switch is on, else None."""
    return cast(keys.value(key, frame)) if enabled else None


def frame_seed(settings: Settings, keys: AnimationKeys, base_seed: int, generation: int, frame: int) -> int:
    """The seed of this generation from the seed behaviour (schedule reads seed_schedule at the frame)."""
    behavior = settings.args.seed_behavior
    scheduled = float(keys.value("seed_schedule", frame)) if behavior == "schedule" else None
    return seed_for_generation(behavior, base_seed, generation, iter_n=settings.args.seed_iter_N,
                               scheduled_seed=scheduled)


def frame_params(settings: Settings, keys: AnimationKeys, prompts: tuple[tuple[str, str], ...],
                 frame: int, base_seed: int, generation: int) -> FrameParams:
    """Read every schedule at `frame` for generation number `generation`."""
    a, anim, v = settings.args, settings.anim, keys.value
    sampler = keys.strings["sampler_schedule"][frame] if anim.enable_sampler_scheduling else a.sampler
    scheduler = keys.strings["scheduler_schedule"][frame] if settings.forge.enable_scheduler_scheduling \
        else settings.forge.scheduler
    positive, negative = prompts[frame]
    return FrameParams(
        frame=frame, seed=frame_seed(settings, keys, base_seed, generation, frame),
        strength=min(1.0, max(0.0, float(v("strength_schedule", frame)))),
        cfg_scale=float(v("cfg_scale_schedule", frame)),
        steps=int(v("steps_schedule", frame)) if anim.enable_steps_scheduling else a.steps,
        sampler=sampler, prompt=positive, negative_prompt=negative,
        noise=float(v("noise_schedule", frame)), contrast=float(v("contrast_schedule", frame)),
        kernel=int(v("kernel_schedule", frame)), sigma=float(v("sigma_schedule", frame)),
        amount=float(v("amount_schedule", frame)), threshold=float(v("threshold_schedule", frame)),
        subseed=int(v("subseed_schedule", frame)) if anim.enable_subseed_scheduling else -1,
        subseed_strength=float(v("subseed_strength_schedule", frame)) if anim.enable_subseed_scheduling else 0.0,
        checkpoint=keys.strings["checkpoint_schedule"][frame] if anim.enable_checkpoint_scheduling else None,
        clip_skip=_optional(anim.enable_clipskip_scheduling, keys, "clipskip_schedule", frame, int),
        noise_multiplier=_optional(anim.enable_noise_multiplier_scheduling, keys, "noise_multiplier_schedule",
                                   frame, float),
        ddim_eta=_optional(anim.enable_ddim_eta_scheduling, keys, "ddim_eta_schedule", frame, float),
        ancestral_eta=_optional(anim.enable_ancestral_eta_scheduling, keys, "ancestral_eta_schedule", frame, float),
        pix2pix_img_cfg_scale=float(v("pix2pix_img_cfg_scale_schedule", frame)),
        scheduler=scheduler, distilled_cfg_scale=float(v("distilled_cfg_scale_schedule", frame)),
        freeu=frame_freeu(settings, keys, frame), deep_shrink=frame_deep_shrink(settings, keys, frame),
    )


def frame_freeu(settings: Settings, keys: AnimationKeys, frame: int) -> FreeU | None:
    """The FreeU factors at `frame` (freeu_b1/b2/s1/s2), or None when freeu_enabled is off."""
    if not settings.forge.freeu_enabled:
        return None
    return FreeU(*(keys.value(f"freeu_{name}", frame) for name in ("b1", "b2", "s1", "s2")))


def frame_deep_shrink(settings: Settings, keys: AnimationKeys, frame: int) -> DeepShrink | None:
    """The Kohya deep shrink at `frame` (the kohya_hrfix_* keys), or None when kohya_hrfix_enabled is off."""
    forge = settings.forge
    if not forge.kohya_hrfix_enabled:
        return None
    return DeepShrink(
        block_number=int(keys.value("kohya_hrfix_block_number", frame)),
        downscale_factor=keys.value("kohya_hrfix_downscale_factor", frame),
        start_percent=keys.value("kohya_hrfix_start_percent", frame),
        end_percent=keys.value("kohya_hrfix_end_percent", frame),
        downscale_after_skip=forge.kohya_hrfix_downscale_after_skip,
        downscale_method=forge.kohya_hrfix_downscale_method, upscale_method=forge.kohya_hrfix_upscale_method,
    )
