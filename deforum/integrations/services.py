"""The composition root: the render services of one run for every front end (CLI, WebUI, API, farm worker), and
the standalone render that the CLI and the ``deforum.render`` facade share.

One policy for absent weights lives here: a motion preview warns and goes on without the model (flat depth, plain
cadence blends, no human masks); a real render stops before anything is written, naming the setting and the files.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deforum.config.weights import WeightsMissing
from deforum.core.inputs import RenderServices
from deforum.core.preview import PreviewModelService
from deforum.core.services import CancelToken, DepthEstimator, FlowEstimator, ModelService
from deforum.core.support import needs_depth, needs_human_matting, needs_raft
from deforum.models.generation import GeneratedImage, GenerationRequest
from deforum.models.settings import Settings

if TYPE_CHECKING:
    from deforum.core.engine import ProgressCallback
    from deforum.core.run import RunResult

__all__ = ["Environment", "KeptModel", "ModelFactory", "diffusers_model", "end_run", "render_standalone",
           "services_for"]

log = logging.getLogger(__name__)

ModelFactory = Callable[[Settings], ModelService]
NEEDS_MODEL = ("Rendering with diffusion needs a model: pass --model PATH to a local checkpoint "
               "(.safetensors/.ckpt or a diffusers folder, e.g. a WebUI models/Stable-diffusion file), "
               "or use --preview for a motion preview without diffusion.")


@dataclass(frozen=True)
class Environment:
    """Where a run happens: the host's diffusion model, its models folder, torch device, precision, VRAM policy."""

    model: ModelFactory | None = None
    models_dir: str | None = None
    device: str | None = None
    half: bool | None = None
    keep_depth_in_vram: bool = False


def services_for(settings: Settings, environment: Environment) -> RenderServices:
    """The model (or the motion preview), depth, flow, word-mask and matting services the settings need."""
    return RenderServices(model=model_service(settings, environment), depth=depth_service(settings, environment),
                          flow=flow_service(settings, environment), word_masker=word_masker(settings, environment),
                          matting=human_matting(settings, environment))


def model_service(settings: Settings, environment: Environment) -> ModelService:
    """No diffusion in a motion preview; otherwise the host's model (a clear error when there is none)."""
    if settings.args.motion_preview_mode:
        return PreviewModelService()
    if environment.model is None:
        raise ValueError(NEEDS_MODEL)
    return environment.model(settings)


def without_weights(settings: Settings, setting: str, err: Exception, fallback: str | None) -> None:
    """The one policy: a preview with a ``fallback`` warns and continues; otherwise raise naming ``setting``."""
    if fallback is None or not settings.args.motion_preview_mode:
        raise ValueError(f"Setting '{setting}': {err}") from None
    log.warning("%s %s", fallback, str(err).splitlines()[0])


def depth_service(settings: Settings, environment: Environment) -> DepthEstimator | None:
    """The depth model when 3D warping or a depth-based mask needs it, or None."""
    if not needs_depth(settings):
        return None
    from deforum.depth import DEPTH_MODEL_CACHE

    algorithm = settings.anim.depth_algorithm
    try:
        return DEPTH_MODEL_CACHE.estimator(algorithm, models_dir=environment.models_dir, device=environment.device,
                                           half=environment.half, midas_weight=settings.anim.midas_weight,
                                           keep_in_vram=environment.keep_depth_in_vram)
    except WeightsMissing as err:
        without_weights(settings, "depth_algorithm", err, f"No depth weights for {algorithm}: the preview uses "
                                                          "flat depth.")
    except ImportError as err:
        raise ValueError(f"Setting 'depth_algorithm': {algorithm} cannot load here ({err}). Choose another depth "
                         "model, turn use_depth_warping off, or update transformers.") from None
    return None


def flow_service(settings: Settings, environment: Environment) -> FlowEstimator | None:
    """RAFT when optical-flow cadence, redo or hybrid motion asks for it, or None."""
    if not needs_raft(settings):
        return None
    from deforum.media.flow import find_raft_weights, load_raft

    try:
        return load_raft(find_raft_weights(environment.models_dir), device=environment.device or "cpu")
    except WeightsMissing as err:
        without_weights(settings, "optical_flow_cadence", err, "No RAFT weights: the preview's cadence frames are "
                                                               "plain blends.")
    return None


def word_masker(settings: Settings, environment: Environment) -> Any:
    """CLIPSeg when a mask schedule in use names `<words>` (no fallback: the mask shapes the motion too)."""
    from deforum.core.masking import uses_word_masks

    if not uses_word_masks(settings):
        return None
    from deforum.integrations.features.clipseg import load_word_masker

    try:
        return load_word_masker(environment.models_dir, device=environment.device or "cpu")
    except WeightsMissing as err:
        without_weights(settings, "mask_schedule", err, None)
    return None


def human_matting(settings: Settings, environment: Environment) -> Any:
    """Robust Video Matting when hybrid video makes human masks, or None."""
    if not needs_human_matting(settings):
        return None
    from deforum.integrations.features.matting import load_human_matting

    try:
        return load_human_matting(environment.models_dir, device=environment.device)
    except WeightsMissing as err:
        without_weights(settings, "hybrid_generate_human_masks", err, "No Robust Video Matting weights: the motion "
                                                                      "preview makes no human masks.")
    return None


def diffusers_model(model: str | None, models_dir: str | None = None) -> ModelFactory | None:
    """The standalone host's model factory: diffusers over a local checkpoint (None without one)."""
    if not model:
        return None

    def load(settings: Settings) -> ModelService:
        """Load the checkpoint (offline); stop before rendering when a prompt names a LoRA that is not there."""
        from deforum.integrations.diffusers.lora import check_prompt_loras
        from deforum.integrations.diffusers.service import load_model_service

        service = load_model_service(model, models_dir=models_dir)
        check_prompt_loras(prompt_texts(settings), service.lora_folders)
        return service

    return load


def prompt_texts(settings: Settings) -> dict[str, str]:
    """Every prompt text of a settings file by the setting that holds it (for checks that name the setting)."""
    prompts = {f"prompts[{key!r}]": text for key, text in settings.prompts.items()}
    prompts["animation_prompts_positive"] = str(settings.to_flat().get("animation_prompts_positive") or "")
    return prompts


def end_run() -> None:
    """After a run: the depth model is freed unless the run asked to keep it in VRAM."""
    from deforum.depth import DEPTH_MODEL_CACHE

    DEPTH_MODEL_CACHE.end_run()


class KeptModel:
    """A server's diffusers model, loaded once and kept for every job (a ModelFactory and a ModelService): a
    request's `checkpoint_schedule` entry switches it, a request naming no checkpoint gets the server's own back."""

    def __init__(self, model: str, models_dir: str | None = None) -> None:
        self.path = Path(model).expanduser().resolve()
        self.models_dir = models_dir
        self._service: ModelService | None = None
        self._lock = threading.Lock()

    def __call__(self, settings: Settings) -> ModelService:
        """The factory: every job shares this one service; a job whose prompts name a missing LoRA stops here."""
        from deforum.integrations.diffusers.lora import check_prompt_loras

        check_prompt_loras(prompt_texts(settings), self.load().lora_folders)
        return self

    def load(self) -> ModelService:
        """The diffusers service, loaded on the first call (offline)."""
        with self._lock:
            if self._service is None:
                from deforum.integrations.diffusers.service import load_model_service

                self._service = load_model_service(str(self.path), models_dir=self.models_dir)
            return self._service

    def generate(self, request: GenerationRequest, cancel: CancelToken | None = None) -> GeneratedImage:
        """Generate on the checkpoint the request names, or on the server's own."""
        checkpoint = request.checkpoint or str(self.path)
        return self.load().generate(dataclasses.replace(request, checkpoint=checkpoint), cancel)


def render_standalone(settings: Settings, outdir: str | Path, *, model: str | None = None,
                      models_dir: str | None = None, resume: str | None = None, cancel: CancelToken | None = None,
                      progress: ProgressCallback | None = None, subtitles: list[str] | None = None,
                      preview_every: int = 0) -> RunResult:
    """Render a frame-by-frame animation without the WebUI: diffusers over ``model``, or the motion preview;
    ``preview_every`` N > 0 remakes `<timestring>_preview.mp4` of the frames so far every N frames."""
    from deforum.config.weights import checkpoint_identity
    from deforum.core.run import OutputOptions, run_render
    from deforum.integrations.features.hooks import render_hooks
    from deforum.integrations.post.postprocess import check_postprocess_weights, run_postprocess

    environment = Environment(model=diffusers_model(model, models_dir), models_dir=models_dir)
    hooks = render_hooks(settings)
    check_postprocess_weights(settings, models_dir)
    services = services_for(settings, environment)
    name, model_hash = checkpoint_identity(model) if model and not settings.args.motion_preview_mode else ("", "")
    try:
        return run_render(settings, services, Path(outdir), resume=resume, cancel=cancel, progress=progress,
                          subtitles=subtitles, postprocess=functools.partial(run_postprocess, models_dir=models_dir),
                          hooks=hooks, output=OutputOptions(model_name=name, model_hash=model_hash,
                                                            preview_every=preview_every))
    finally:
        end_run()
