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
from deforum.core.run import OutputOptions, RunResult, finish_video, new_timestring, output_folder, run_render
from deforum.core.services import CancelToken, RenderCancelled
from deforum.integrations.features.hooks import render_hooks
from deforum.integrations.services import Environment, services_for
from deforum.integrations.webui import host, options
from deforum.integrations.webui.controlnet import check_controlnet
from deforum.integrations.webui.forge_fields import host_kind, host_notice_lines
from deforum.integrations.webui.service import WebUIModelService, pause_point
from deforum.models.modes import traits
from deforum.models.settings import Settings

log = logging.getLogger(__name__)

WATCH_SECONDS = 0.2


def environment() -> Environment:
    """The WebUI as a render environment: its model, models folder, device, precision and VRAM option."""
    return Environment(model=webui_model, models_dir=str(host.models_dir()), device=str(host.device()),
                       half=False if host.flag("no_half", False) else None,
                       keep_depth_in_vram=bool(options.get("deforum_keep_3d_models_in_vram")))


def webui_model(settings: Settings) -> WebUIModelService:
    """The WebUI's own txt2img/img2img processing (with ControlNet's external code when units are on)."""
    return WebUIModelService(host.output_root(), total_frames=settings.anim.max_frames,
                             external_code=check_controlnet(settings))


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
    from deforum.integrations.post.postprocess import Encoding, check_postprocess_weights, run_postprocess
    from deforum.integrations.webui.tools import ffmpeg_args

    models_dir = str(host.models_dir())
    check_postprocess_weights(settings, models_dir)
    return functools.partial(run_postprocess, models_dir=models_dir, encoding=Encoding(**ffmpeg_args()),
                             embed_subtitles=bool(options.get("deforum_embed_srt")), cancel=cancel)


def output_options() -> OutputOptions:
    """The WebUI's ffmpeg and preview-video options (Settings → Deforum) and the loaded checkpoint, for every
    run's files."""
    from deforum.integrations.webui.tools import ffmpeg_args

    name, model_hash = host.model_info()
    return OutputOptions(**ffmpeg_args(), model_name=name, model_hash=model_hash,
                         preview_every=options.preview_every())


def render_settings(settings: Settings, *, root: Path | None = None, cancel: CancelToken | None = None,
                    progress: ProgressCallback | None = None, timestring: str | None = None,
                    overrides: dict[str, Any] | None = None) -> RunResult:
    """Render with the WebUI (caller holds the queue lock); Interrupt keeps the frames and still makes the video."""
    apply_debug_option()
    options.apply_download_options()
    for line in host_notice_lines(settings, host_kind()):
        log.warning("%s", line)
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
            if not traits(settings.anim.animation_mode).frame_by_frame:
                from deforum.integrations.wan import render_wan

                return render_wan(settings, root, cancel=cancel, progress=report, timestring=timestring,
                                  models_dir=host.models_dir(), resume=resume, postprocess=postprocess)
            services = services_for(settings, environment())
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
