"""The per-frame image steps of the original's loop, as pure functions of arrays and settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deforum.animation.keys import AnimationKeys
from deforum.animation.motion import FrameMotion, apply_motion
from deforum.core.frame_params import FrameParams
from deforum.media.color import (
    ColorReference,
    match_color,
    matches_after_generation,
    reference_follows_generation,
)
from deforum.media.frames_io import load_image_source
from deforum.media.image_ops import apply_contrast, blend, to_grayscale, unsharp_mask
from deforum.media.noise import NoiseFields, add_noise
from deforum.models.generation import GenerationRequest
from deforum.models.modes import traits
from deforum.models.settings import Settings

PERLIN_W = PERLIN_H = 8


def warp(image: np.ndarray, settings: Settings, keys: AnimationKeys, frame: int,
         depth: np.ndarray | None = None) -> np.ndarray:
    """Move an image by the camera motion of `frame` (2D or 3D as the animation mode says)."""
    anim = settings.anim
    if not traits(anim.animation_mode).camera_motion:
        return image
    motion = FrameMotion.from_series(keys.series, frame, enable_perspective_flip=anim.enable_perspective_flip)
    return apply_motion(
        image, motion, animation_mode=anim.animation_mode, depth=depth if anim.use_depth_warping else None,
        border=anim.border, padding_mode=anim.padding_mode, sampling_mode=anim.sampling_mode,
        aspect_ratio_use_old_formula=anim.aspect_ratio_use_old_formula, depth_algorithm=anim.depth_algorithm,
    )


def frame_size(settings: Settings) -> tuple[int, int]:
    """(width, height) of the frames: W and H rounded down to multiples of 8, as the original."""
    a = settings.args
    return a.W - a.W % 8, a.H - a.H % 8


def video_init(frames: tuple[Path, ...], frame: int, settings: Settings) -> np.ndarray:
    """The extracted video frame used as this frame's init image (Video Input mode)."""
    if frame >= len(frames):
        raise ValueError(f"Video Input: frame {frame} has no extracted input frame ({len(frames)} extracted). "
                         "Re-extract with overwrite_extracted_frames on.")
    return load_image_source(str(frames[frame]), frame_size(settings), setting="video_init_path")


def tween_image(prev: np.ndarray | None, nxt: np.ndarray, tween: float) -> np.ndarray:
    """The cadence in-between frame: a blend of the two warped diffused frames (next alone before the first)."""
    if prev is None or tween >= 1.0:
        return nxt
    return blend(prev, nxt, tween)


def grayscale_if(image: np.ndarray, settings: Settings) -> np.ndarray:
    """Apply color_force_grayscale."""
    return to_grayscale(image) if settings.anim.color_force_grayscale else image


def coherence_before_generation(image: np.ndarray, sample: np.ndarray | None, settings: Settings,
                                reference: ColorReference | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Colour-match the warped frame to the sample (prepared as `reference`); the first one becomes the sample."""
    mode = settings.anim.color_coherence
    if mode == "None":
        return image, sample
    if sample is None:
        return image, image.copy()
    return match_color(image, reference if reference is not None else sample, mode), sample


def prepare_init(image: np.ndarray, params: FrameParams, settings: Settings, *,
                 noise_mask: np.ndarray | None = None, sharpen_mask: np.ndarray | None = None,
                 fields: NoiseFields | None = None) -> np.ndarray:
    """Contrast, anti-blur and noise on the warped, colour-matched previous frame: the next init image."""
    contrasted = image if params.contrast == 1 else apply_contrast(image, params.contrast)  # no copy: never changed
    if params.amount > 0:
        contrasted = unsharp_mask(contrasted, params.kernel, params.sigma, params.amount, params.threshold,
                                  mask=sharpen_mask)
    anim = settings.anim
    return add_noise(contrasted, params.noise, params.seed, noise_type=anim.noise_type,
                     perlin_octaves=anim.perlin_octaves, perlin_persistence=anim.perlin_persistence,
                     perlin_w=PERLIN_W, perlin_h=PERLIN_H, mask=noise_mask, fields=fields)


def prefetch_noise(fields: NoiseFields, params: FrameParams, settings: Settings) -> None:
    """Start drawing the noise field that prepare_init will blend into the frame of `params` (2D/3D only)."""
    anim = settings.anim
    if anim.animation_mode not in ("2D", "3D") or params.noise == 0:
        return
    width, height = frame_size(settings)
    fields.prefetch((height, width), 3, params.seed, noise_type=anim.noise_type, octaves=anim.perlin_octaves,
                    persistence=anim.perlin_persistence, cells=(PERLIN_W, PERLIN_H))


def coherence_after_generation(image: np.ndarray, sample: np.ndarray | None, frame: int, settings: Settings,
                               reference: ColorReference | None = None, *, video_reference: bool = False) -> np.ndarray:
    """The original's colour match of the generated image (frame 0 for Image/Video Input; every frame unless legacy)."""
    anim = settings.anim
    matches = sample is not None and matches_after_generation(
        anim.color_coherence, frame=frame, legacy=anim.legacy_colormatch, has_reference=True,
        video_reference=video_reference)
    if traits(anim.animation_mode).blends_prompts or not matches:
        return image
    return match_color(image, reference if reference is not None else sample, anim.color_coherence)


def next_color_sample(image: np.ndarray, sample: np.ndarray | None, init_used: bool, strength: float,
                      settings: Settings) -> np.ndarray | None:
    """On strength 0 (legacy) or without an init (current), the generated image becomes the colour sample."""
    anim = settings.anim
    if reference_follows_generation(anim.color_coherence, legacy=anim.legacy_colormatch, used_init=init_used,
                                    strength=strength):
        return image.copy()
    return sample


def build_request(params: FrameParams, settings: Settings, init_image: np.ndarray | None,
                  strength: float) -> GenerationRequest:
    """The model service request for one diffused frame (denoising strength = 1 − strength)."""
    a = settings.args
    width, height = frame_size(settings)
    return GenerationRequest(
        frame=params.frame, prompt=params.prompt, negative_prompt=params.negative_prompt, seed=params.seed,
        width=width, height=height, steps=params.steps, cfg_scale=params.cfg_scale, sampler=params.sampler,
        scheduler=params.scheduler, denoising_strength=1.0 - strength if init_image is not None else 1.0,
        init_image=init_image, subseed=params.subseed, subseed_strength=params.subseed_strength,
        seed_resize_from_w=a.seed_resize_from_w, seed_resize_from_h=a.seed_resize_from_h, tiling=a.tiling,
        restore_faces=a.restore_faces, clip_skip=params.clip_skip, noise_multiplier=params.noise_multiplier,
        ddim_eta=params.ddim_eta, ancestral_eta=params.ancestral_eta, checkpoint=params.checkpoint,
        pix2pix_img_cfg_scale=params.pix2pix_img_cfg_scale, fill=a.fill, full_res_mask=a.full_res_mask,
        full_res_mask_padding=a.full_res_mask_padding, mask_blur=a.mask_overlay_blur, invert_mask=a.invert_mask,
        distilled_cfg_scale=params.distilled_cfg_scale, freeu=params.freeu, deep_shrink=params.deep_shrink,
    )
