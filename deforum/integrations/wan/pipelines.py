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
from deforum.integrations.wan.seams import AUTO_ATTENTION, apply_attention_mode
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


def default_loader(models: WanModels, *, device: str | None = None, attention: str = AUTO_ATTENTION) -> PipelineLoader:
    """role ('t2v' or 'i2v') → pipeline, each folder loaded once with the `attention` mode (wan_flash_attention_mode);
    a second model reuses the first's text encoder when neither is offloaded to the CPU."""
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
            pipe = load_pipeline(model, device=device, shared=shared, offload=offload)
            apply_attention_mode(pipe, attention, device)
            cache[model.path] = (pipe, offload)
        return cache[model.path][0]

    return load


def _fit(image: np.ndarray, width: int, height: int) -> Image.Image:
    """The image as RGB PIL at the clip size (Lanczos when it differs)."""
    pil = to_pil(image).convert("RGB")
    return pil if pil.size == (width, height) else pil.resize((width, height), Image.LANCZOS)


def vace_inputs(frames: list[Image.Image], num_frames: int,
                last: Image.Image | None = None) -> tuple[list[Image.Image], list[Image.Image]]:
    """VACE's inputs: the known frames then grey frames (the last one given when `last` is), with a mask keeping
    the known frames (black) and making the rest (white)."""
    size = frames[0].size
    made = num_frames - len(frames) - (last is not None)
    video = [*frames, *(Image.new("RGB", size, VACE_GREY) for _ in range(made))] + ([last] if last else [])
    mask = [*(Image.new("L", size, 0) for _ in frames), *(Image.new("L", size, 255) for _ in range(made))]
    return video, mask + ([Image.new("L", size, 0)] if last else [])


def conditioning_frames(pipe: Any, clip: WanClip, previous: np.ndarray | None) -> int:
    """How many of the previous frames the pipeline continues from: VACE up to the overlap, I2V one, T2V none."""
    if clip.mode != "i2v":
        return 0
    if previous is None or len(previous) == 0:
        raise ValueError(f"Wan clip {clip.index} continues from a frame, but no frame was given.")
    if PIPELINE_KINDS.get(type(pipe).__name__) == "vace" and clip.source == "previous":
        return min(len(previous), clip.overlap)
    return 1


def clip_arguments(pipe: Any, clip: WanClip, plan: WanPlan, previous: np.ndarray | None,
                   last: np.ndarray | None = None) -> dict[str, Any]:
    """The keyword arguments of one pipeline call: steps, guidance, size, frames, prompts, the frames to continue
    from (`previous`: K×H×W×3, its last ones used) and the frame to end at (`last`, first-last-frame clips)."""
    kwargs: dict[str, Any] = {
        "prompt": clip.prompt, "negative_prompt": clip.negative, "height": plan.height, "width": plan.width,
        "num_frames": clip.num_frames, "num_inference_steps": plan.steps, "guidance_scale": clip.guidance_scale,
        "output_type": "np",
    }
    used = conditioning_frames(pipe, clip, previous)
    if used == 0:
        return kwargs
    frames = [_fit(image, plan.width, plan.height) for image in previous[-used:]]
    end = _fit(last, plan.width, plan.height) if last is not None else None
    kind = PIPELINE_KINDS.get(type(pipe).__name__)
    if kind == "vace":
        video, mask = vace_inputs(frames, clip.num_frames, end)
        kwargs.update(video=video, mask=mask, conditioning_scale=clip.strength)
    elif kind == "i2v":
        if end is None and needs_last_image(pipe):
            raise WanModelError(f"Setting 'wan_i2v_model': this first-last-frame (FLF2V) model needs a last frame for "
                                f"clip {clip.index} (frames {clip.start}-{clip.end - 1}); add a guided image at frame "
                                f"{clip.end - 1} or {clip.end} (init_images, use_looper on) or choose an I2V or VACE "
                                "model.")
        kwargs.update(image=frames[-1], **({"last_image": end} if end is not None else {}))
    else:
        raise WanModelError(f"{type(pipe).__name__} cannot continue a clip from a frame; use a VACE or I2V model.")
    return kwargs


def needs_last_image(pipe: Any) -> bool:
    """A first-last-frame (FLF2V) transformer: its image positions hold two images, so it cannot run without one."""
    config = getattr(getattr(pipe, "transformer", None), "config", None)
    return getattr(config, "pos_embed_seq_len", None) is not None


def keep_ends(frames: np.ndarray, count: int) -> np.ndarray:
    """`count` of the frames spread evenly, first and last kept (a first-last-frame clip keeps its last frame)."""
    if count >= len(frames):
        return frames
    return frames[np.round(np.linspace(0, len(frames) - 1, count)).astype(int)]


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


def generate_clip(pipe: Any, clip: WanClip, plan: WanPlan, previous: np.ndarray | None = None,
                  cancel: CancelToken | None = None, last: np.ndarray | None = None) -> np.ndarray | None:
    """The clip's frames to write (length × H × W × 3 uint8), or None when cancelled during the clip.

    A chained clip's frames it continued from are dropped (an init image stays frame 0); with a `last` frame
    the written frames end on the generated last frame (spread evenly when the model made more than needed), so
    the clip lands on its keyframe image.
    """
    import torch

    previous = previous[None] if previous is not None and previous.ndim == 3 else previous
    generator = torch.Generator("cpu").manual_seed(clip.seed)
    result = pipe(**clip_arguments(pipe, clip, plan, previous, last), generator=generator,
                  callback_on_step_end=_interrupt_when(cancel))
    if cancel is not None and cancel.cancelled:
        return None
    frames = to_uint8(result.frames[0])
    used = conditioning_frames(pipe, clip, previous) if clip.source == "previous" else 0
    if len(frames) < used + clip.length:
        raise RuntimeError(f"Wan clip {clip.index}: the pipeline returned {len(frames)} frames, "
                           f"expected {clip.num_frames}.")
    if last is not None:
        return keep_ends(frames[used:], clip.length)
    return frames[used:used + clip.length]
