"""Wan clips through diffusers' pipelines: local folders loaded once, one pipeline call per clip, uint8 frames out."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from deforum.config.weights import default_device
from deforum.core.services import CancelToken
from deforum.integrations.wan.models import PIPELINE_KINDS, WanModel, WanModelError, WanModels
from deforum.integrations.wan.plan import WanClip, WanPlan
from deforum.media.frames_io import to_pil

log = logging.getLogger(__name__)

PipelineLoader = Callable[[str], Any]
OFFLOAD_SHARE = 0.6
VACE_GREY = (128, 128, 128)




def weights_bytes(folder: Path) -> int:
    """Bytes of the folder's .safetensors/.bin weights (all components)."""
    return sum(p.stat().st_size for pattern in ("*.safetensors", "*.bin") for p in folder.rglob(pattern))


def needs_offload(folder: Path, device: str) -> bool:
    """Offload whole models to the CPU between uses when the weights exceed 60% of the GPU's memory."""
    if device != "cuda":
        return False
    import torch

    return weights_bytes(folder) > OFFLOAD_SHARE * torch.cuda.get_device_properties(0).total_memory


def check_text_cleaner(pipeline_class: str) -> None:
    """diffusers' Wan VACE and image-to-video pipelines clean prompts with ftfy: fail early, saying so, without it."""
    if pipeline_class != "WanPipeline" and importlib.util.find_spec("ftfy") is None:
        raise RuntimeError(f"diffusers' {pipeline_class} needs the ftfy package to read prompts: pip install ftfy")


def check_wan_support() -> None:
    """Fail before any work, naming the setting, when diffusers' Wan pipelines cannot be imported here."""
    try:
        from diffusers import WanPipeline  # noqa: F401
    except ImportError as exc:
        raise WanModelError(
            "Setting 'animation_mode': 'Wan Video' runs on diffusers' Wan pipelines (diffusers 0.34 or newer, with a "
            "transformers that has UMT5), which this Python lacks: the Forge WebUI and `python -m deforum` (make "
            f"demo's .venv) have them; A1111 v1.10 does not. ({exc})") from None


def load_pipeline(model: WanModel, *, device: str | None = None, shared: dict[str, Any] | None = None,
                  offload: bool = False) -> Any:
    """A Wan pipeline from a local diffusers folder (bf16 transformer and fp32 VAE on CUDA, fp32 on the CPU)."""
    import torch
    from diffusers import DiffusionPipeline

    device = device or default_device(mps=False)
    dtype = {"default": torch.bfloat16, "vae": torch.float32} if device == "cuda" else torch.float32
    pipe = DiffusionPipeline.from_pretrained(str(model.path), dtype=dtype, local_files_only=True, **(shared or {}))
    if type(pipe).__name__ not in PIPELINE_KINDS:
        raise WanModelError(f"{model.path} loads as {type(pipe).__name__}, not a Wan pipeline.")
    check_text_cleaner(type(pipe).__name__)
    pipe.set_progress_bar_config(disable=True)
    if offload:
        log.info("Wan: %s is large for this GPU; models move to the GPU one at a time (CPU offload).", model.path)
        pipe.enable_model_cpu_offload()
    else:
        pipe.to(device)
    return pipe


def default_loader(models: WanModels, *, device: str | None = None) -> PipelineLoader:
    """role ('t2v' or 'i2v') → pipeline, each folder loaded once; a second model reuses the first's text encoder
    when neither is offloaded to the CPU."""
    cache: dict[Path, tuple[Any, bool]] = {}
    device = device or default_device(mps=False)

    def load(role: str) -> Any:
        """The pipeline for one role."""
        model = models.text if role == "t2v" else models.image
        if model is None:
            raise WanModelError(f"No Wan model was selected for {role} clips.")
        if model.path not in cache:
            offload = needs_offload(model.path, device)
            first, first_offloaded = next(iter(cache.values()), (None, True))
            shared = {} if offload or first_offloaded else {"text_encoder": first.text_encoder,
                                                            "tokenizer": first.tokenizer}
            log.info("Wan: loading %s (%s) from %s", model.label, model.kind, model.path)
            cache[model.path] = (load_pipeline(model, device=device, shared=shared, offload=offload), offload)
        return cache[model.path][0]

    return load


def _fit(image: np.ndarray, width: int, height: int) -> Image.Image:
    """The image as RGB PIL at the clip size (Lanczos when it differs)."""
    pil = to_pil(image).convert("RGB")
    return pil if pil.size == (width, height) else pil.resize((width, height), Image.LANCZOS)


def vace_inputs(image: Image.Image, num_frames: int) -> tuple[list[Image.Image], list[Image.Image]]:
    """VACE's image-to-video inputs: the frame then grey frames, with a mask keeping the first and making the rest."""
    size = image.size
    video = [image, *(Image.new("RGB", size, VACE_GREY) for _ in range(num_frames - 1))]
    mask = [Image.new("L", size, 0), *(Image.new("L", size, 255) for _ in range(num_frames - 1))]
    return video, mask


def clip_arguments(pipe: Any, clip: WanClip, plan: WanPlan, image: np.ndarray | None) -> dict[str, Any]:
    """The keyword arguments of one pipeline call: steps, guidance, size, frames, prompts, the frame to continue."""
    kwargs: dict[str, Any] = {
        "prompt": clip.prompt, "negative_prompt": clip.negative, "height": plan.height, "width": plan.width,
        "num_frames": clip.num_frames, "num_inference_steps": plan.steps, "guidance_scale": clip.guidance_scale,
        "output_type": "np",
    }
    if clip.mode != "i2v":
        return kwargs
    if image is None:
        raise ValueError(f"Wan clip {clip.index} continues from a frame, but no frame was given.")
    frame = _fit(image, plan.width, plan.height)
    kind = PIPELINE_KINDS.get(type(pipe).__name__)
    if kind == "vace":
        video, mask = vace_inputs(frame, clip.num_frames)
        kwargs.update(video=video, mask=mask, conditioning_scale=clip.strength)
    elif kind == "i2v":
        kwargs["image"] = frame
    else:
        raise WanModelError(f"{type(pipe).__name__} cannot continue a clip from a frame; use a VACE or I2V model.")
    return kwargs


def _interrupt_when(cancel: CancelToken | None) -> Callable[..., dict[str, Any]]:
    """A step-end callback that stops the pipeline's remaining steps once `cancel` is set."""

    def on_step_end(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        """Set the pipeline's interrupt flag on cancel."""
        if cancel is not None and cancel.cancelled:
            pipe._interrupt = True
        return tensors

    return on_step_end


def to_uint8(frames: Any) -> np.ndarray:
    """Pipeline frames (F×H×W×3 floats in 0..1) as uint8."""
    return np.clip(np.rint(np.asarray(frames, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def generate_clip(pipe: Any, clip: WanClip, plan: WanPlan, image: np.ndarray | None = None,
                  cancel: CancelToken | None = None) -> np.ndarray | None:
    """The clip's frames to write (length × H × W × 3 uint8), or None when cancelled during the clip."""
    import torch

    generator = torch.Generator("cpu").manual_seed(clip.seed)
    result = pipe(**clip_arguments(pipe, clip, plan, image), generator=generator,
                  callback_on_step_end=_interrupt_when(cancel))
    if cancel is not None and cancel.cancelled:
        return None
    frames = to_uint8(result.frames[0])
    if len(frames) < clip.skip + clip.length:
        raise RuntimeError(f"Wan clip {clip.index}: the pipeline returned {len(frames)} frames, "
                           f"expected {clip.num_frames}.")
    return frames[clip.skip:clip.skip + clip.length]
