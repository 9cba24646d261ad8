"""The WebUI render entry: one Deforum run with the WebUI's model, state, options, depth folder and lock."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from deforum.config.settings_io import save
from deforum.core.engine import ProgressCallback
from deforum.core.inputs import RenderServices
from deforum.core.preview import PreviewModelService
from deforum.core.run import OutputOptions, RunResult, finish_video, new_timestring, output_folder, run_render
from deforum.core.services import CancelToken, DepthEstimator, FlowEstimator, RenderCancelled
from deforum.core.support import needs_depth, needs_raft
from deforum.integrations.render_hooks import render_hooks
from deforum.integrations.webui import host, options
from deforum.integrations.webui.controlnet import check_controlnet
from deforum.integrations.webui.service import WebUIModelService, pause_point
from deforum.models.settings import Settings

log = logging.getLogger(__name__)

WATCH_SECONDS = 0.2


def depth_estimator(settings: Settings) -> DepthEstimator | None:
    """The depth model from the WebUI's models folder (kept loaded when the option says so), or None."""
    if not needs_depth(settings):
        return None
    from deforum.depth import DEPTH_MODEL_CACHE, DepthModelMissing

    half = False if host.flag("no_half", False) else None
    try:
        return DEPTH_MODEL_CACHE.estimator(
            settings.anim.depth_algorithm, models_dir=host.models_dir(), device=host.device(), half=half,
            midas_weight=settings.anim.midas_weight, keep_in_vram=bool(options.get("deforum_keep_3d_models_in_vram")))
    except DepthModelMissing as err:
        if not settings.args.motion_preview_mode:
            raise ValueError(str(err)) from None
        log.warning("No depth weights for %s: the motion preview uses flat depth.", settings.anim.depth_algorithm)
        return None
    except ImportError as err:
        raise ValueError(f"Setting 'depth_algorithm': the depth model cannot load in this WebUI ({err}). It needs "
                         "a newer transformers; use 2D, turn use_depth_warping off, or update transformers.") from None


def flow_estimator(settings: Settings) -> FlowEstimator | None:
    """RAFT from models/Deforum when optical-flow cadence, redo or hybrid motion asks for it, or None."""
    if not needs_raft(settings):
        return None
    from deforum.media.flow import RaftWeightsMissingError, load_raft, raft_weights_path

    try:
        return load_raft(raft_weights_path(host.models_dir()), device=host.device())
    except RaftWeightsMissingError as err:
        if not settings.args.motion_preview_mode:
            raise ValueError(str(err)) from None
        log.warning("No RAFT weights: the motion preview's cadence frames are plain blends.")
        return None


def word_masker(settings: Settings) -> Any:
    """CLIPSeg from the WebUI's models folder when a mask schedule in use names `<words>`."""
    from deforum.core.masking import uses_word_masks

    if not uses_word_masks(settings):
        return None
    from deforum.integrations.clipseg import ClipSegMissing, load_word_masker

    try:
        return load_word_masker(host.models_dir(), device=str(host.device()))
    except ClipSegMissing as err:
        raise ValueError(f"Setting 'mask_schedule': {err}") from None


def human_matting(settings: Settings) -> Any:
    """Robust Video Matting from the WebUI's models folder when hybrid video makes human masks."""
    from deforum.integrations.matting import matting_for

    return matting_for(settings, host.models_dir(), device=str(host.device()))


def services_for(settings: Settings) -> RenderServices:
    """The WebUI model (or the motion preview), the depth and the flow models for one run."""
    if settings.args.motion_preview_mode:
        model: Any = PreviewModelService()
    else:
        model = WebUIModelService(host.output_root(), total_frames=settings.anim.max_frames,
                                  external_code=check_controlnet(settings))
    return RenderServices(model=model, depth=depth_estimator(settings), flow=flow_estimator(settings),
                          word_masker=word_masker(settings), matting=human_matting(settings))


@contextlib.contextmanager
def interrupt_on_cancel(cancel: CancelToken) -> Iterator[None]:
    """While the run lasts, a cancelled token interrupts the WebUI's current generation too."""
    done = threading.Event()

    def watch() -> None:
        """Poll the token; interrupt the WebUI once when it is set."""
        while not done.wait(WATCH_SECONDS):
            if cancel.cancelled:
                host.state().interrupt()
                return

    watcher = threading.Thread(target=watch, name="deforum-cancel-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


class _Progress:
    """The engine's progress callback: WebUI job state, the caller's callback, and a Pause point between frames."""

    def __init__(self, cancel: CancelToken, forward: ProgressCallback | None) -> None:
        self.cancel, self.forward, self.written = cancel, forward, 0

    def __call__(self, done: int, total: int) -> None:
        """One frame written (frame number done of total)."""
        self.written += 1
        state = host.state()
        state.job_no, state.job_count, state.job = done, total, f"frame {done}/{total}"
        if self.forward is not None:
            self.forward(done, total)
        if done < total:
            pause_point(self.cancel)


def apply_debug_option() -> None:
    """The "Dev mode" option: Deforum's log at DEBUG level while it is on, INFO otherwise."""
    logging.getLogger("deforum").setLevel(logging.DEBUG if options.get("deforum_debug_mode_enabled") else logging.INFO)


def postprocess_for(settings: Settings, cancel: CancelToken) -> Callable[..., list[Path]]:
    """Upscaling and frame interpolation after the video, with the WebUI's models folder and ffmpeg options."""
    from deforum.integrations.postprocess import Encoding, check_postprocess_weights, run_postprocess
    from deforum.integrations.webui.tools import ffmpeg_args

    models_dir = str(host.models_dir())
    check_postprocess_weights(settings, models_dir)
    return functools.partial(run_postprocess, models_dir=models_dir, encoding=Encoding(**ffmpeg_args()),
                             embed_subtitles=bool(options.get("deforum_embed_srt")), cancel=cancel)


def output_options() -> OutputOptions:
    """The WebUI's ffmpeg options (Settings → Deforum) and the loaded checkpoint, for every run's files."""
    from deforum.integrations.webui.tools import ffmpeg_args

    name, model_hash = host.model_info()
    return OutputOptions(**ffmpeg_args(), model_name=name, model_hash=model_hash)


def render_settings(settings: Settings, *, root: Path | None = None, cancel: CancelToken | None = None,
                    progress: ProgressCallback | None = None, timestring: str | None = None,
                    overrides: dict[str, Any] | None = None) -> RunResult:
    """Render with the WebUI (caller holds the queue lock); Interrupt keeps the frames and still makes the video."""
    apply_debug_option()
    root = Path(root) if root is not None else host.output_root()
    cancel = cancel or CancelToken()
    resume = settings.anim.resume_timestring if settings.anim.resume_from_timestring else None
    timestring = resume or timestring or new_timestring()
    state = host.state()
    state.job_count, state.job_no = settings.anim.max_frames, 0
    report = _Progress(cancel, progress)
    hooks = render_hooks(settings)
    try:
        postprocess = postprocess_for(settings, cancel)
        with options.OptionsOverride(host.opts(), overrides), interrupt_on_cancel(cancel), host.run_progress_bar():
            if settings.anim.animation_mode == "Wan Video":
                from deforum.integrations.wan import render_wan

                return render_wan(settings, root, cancel=cancel, progress=report, timestring=timestring,
                                  models_dir=host.models_dir(), resume=resume)
            services = services_for(settings)
            return run_render(settings, services, root, resume=resume, cancel=cancel, progress=report,
                              timestring=timestring, subtitles=options.subtitle_params(), postprocess=postprocess,
                              hooks=hooks, output=output_options())
    except RenderCancelled:
        outdir = output_folder(settings, root, timestring, settings.args.seed)[0]
        log.info("Run %s interrupted after %d frame(s); resume it with timestring %s.", timestring,
                 report.written, timestring)
        return RunResult(outdir, timestring, report.written, True,
                         *finish_video(settings, outdir, timestring, output=output_options()))
    finally:
        from deforum.depth import DEPTH_MODEL_CACHE

        DEPTH_MODEL_CACHE.end_run()


def save_persistent(settings: Settings) -> Path | None:
    """Save the run's settings where the persistent-settings option says (when it is on)."""
    if not options.get("deforum_enable_persistent_settings"):
        return None
    path = Path(options.get("deforum_persistent_settings_path") or options.DEFAULT_PERSISTENT_PATH)
    name, model_hash = host.model_info()
    return save(settings, path, model_name=name, model_hash=model_hash)


def render_for_ui(settings: Settings, progress: Callable[[int, int], None] | None = None) -> RunResult:
    """The tab's Generate: render (the WebUI's wrapper holds the lock), then keep the settings if asked."""
    result = render_settings(settings, progress=progress)
    save_persistent(settings)
    return result
