"""The standalone server: renders through run_render (diffusion on `--model`, or motion previews), the router on a
FastAPI app, uvicorn."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from deforum import __version__
from deforum.config.weights import checkpoint_identity
from deforum.core.preview_video import DEFAULT_PREVIEW_INTERVAL, preview_interval
from deforum.core.run import OutputOptions, RunResult, output_folder, run_render
from deforum.core.services import CancelToken
from deforum.integrations.api.auth import AuthSpec
from deforum.integrations.api.jobs import JobProgress, JobQueue, RenderFn
from deforum.integrations.api.limits import DEFAULT_MAX_BODY_BYTES
from deforum.integrations.api.paths import is_inside
from deforum.integrations.api.router import build_router
from deforum.integrations.api.store import JobStore, Retention, store_path
from deforum.integrations.features.hooks import preflight, render_hooks
from deforum.integrations.services import Environment, KeptModel, end_run, services_for
from deforum.media.remote import require_public_urls
from deforum.models.settings import Settings

log = logging.getLogger(__name__)

TIMESTRING_FORMAT = "%Y%m%d%H%M%S"
MAX_TIMESTRING_TRIES = 10_000
SHUTDOWN_WAIT_SECONDS = 10.0
DESCRIPTION = ("Deforum's REST API: submit settings (the JSON of a *_settings.txt file), poll job status, cancel. "
               "This standalone server diffuses with the checkpoint it was started with (--model); jobs with "
               "motion_preview_mode render without diffusion.")
NO_MODEL = ("Setting 'motion_preview_mode': this server has no diffusion model, so it renders motion previews only. "
            "Submit with motion_preview_mode true, or restart the server with `deforum serve --model PATH` (a "
            ".safetensors/.ckpt checkpoint or a diffusers folder).")


class TimestringAllocator:
    """Run ids unique per output folder: jobs started within one second into one folder get consecutive seconds."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._used: set[tuple[Path, str]] = set()

    def allocate(self, settings: Settings, root: Path) -> tuple[str, Path]:
        """A timestring (now, or the next free second) and the output folder it gives."""
        with self._lock:
            moment = int(self._clock())
            for _ in range(MAX_TIMESTRING_TRIES):
                timestring = time.strftime(TIMESTRING_FORMAT, time.localtime(moment))
                outdir = output_folder(settings, root, timestring, settings.args.seed)[0]
                key = (outdir.resolve(), timestring)
                if key not in self._used and not (outdir / f"{timestring}_settings.txt").exists():
                    self._used.add(key)
                    return timestring, outdir
                moment += 1
        raise RuntimeError(f"No free timestring for {outdir} after {MAX_TIMESTRING_TRIES} tries.")


def claim_run(settings: Settings, root: Path, allocator: TimestringAllocator,
              progress: JobProgress) -> tuple[str, str | None]:
    """A job's (timestring, resume timestring): a unique run id, its folder checked to lie inside the root."""
    resume = settings.anim.resume_timestring if settings.anim.resume_from_timestring else None
    if resume:
        timestring, outdir = resume, output_folder(settings, root, resume, settings.args.seed)[0]
    else:
        timestring, outdir = allocator.allocate(settings, root)
    if not is_inside(outdir, root):
        raise ValueError(f"Setting 'batch_name': {settings.args.batch_name!r} resolves to {outdir}, outside "
                         f"the output folder {root}.")
    progress.output(outdir.resolve(), timestring)
    return timestring, resume


def job_output(model: KeptModel | None, settings: Settings, overrides: Mapping[str, Any]) -> OutputOptions:
    """A job's output options: the checkpoint recorded in its settings file (none for a motion preview), and the
    in-progress preview video when its `options_overrides` turn `deforum_preview` on."""
    every = preview_interval(overrides.get("deforum_preview"),
                             overrides.get("deforum_preview_interval_frames", DEFAULT_PREVIEW_INTERVAL))
    if model is None or settings.args.motion_preview_mode:
        return OutputOptions(preview_every=every)
    name, model_hash = checkpoint_identity(model.path)
    return OutputOptions(model_name=name, model_hash=model_hash, preview_every=every)


def render_fn(output_root: Path, environment: Environment | None = None, *, force_preview: bool = False) -> RenderFn:
    """A render_fn into output_root: diffusion on the environment's model (motion previews with
    `motion_preview_mode`, or every job with `force_preview`), depth and flow models from its models folder."""
    root = Path(output_root).resolve()
    allocator = TimestringAllocator()
    environment = environment or Environment()
    kept = environment.model if isinstance(environment.model, KeptModel) else None

    def render(settings: Settings, cancel: CancelToken, progress: JobProgress) -> RunResult:
        """Render one job; its output folder must lie inside the root."""
        if force_preview:
            settings = settings.replace(motion_preview_mode=True)
        timestring, resume = claim_run(settings, root, allocator, progress)
        services = services_for(settings, environment)
        try:
            return run_render(settings, services, root, resume=resume, cancel=cancel, progress=progress,
                              timestring=timestring, hooks=render_hooks(settings),
                              output=job_output(kept, settings, progress.options_overrides))
        finally:
            end_run()

    return render


def preview_render_fn(output_root: Path, environment: Environment | None = None) -> RenderFn:
    """A render_fn that renders every job as a motion preview (no diffusion model)."""
    return render_fn(output_root, environment, force_preview=True)


def server_preflight(has_model: bool) -> Callable[[Settings], list[str]]:
    """The submission checks: the renderer's feature checks, and a diffusion job refused by a server without model."""

    def check(settings: Settings) -> list[str]:
        """Problems that refuse the job with a 422."""
        problems = preflight(settings)
        if not has_model and not settings.args.motion_preview_mode:
            problems.append(NO_MODEL)
        return problems

    return check


def create_app(queue: JobQueue, *, auth: AuthSpec | None = None, allow_local_files: bool = False,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, allow_urls: bool = False,
               has_model: bool = True) -> FastAPI:
    """A FastAPI app serving the whole API (docs at /docs), with the standalone renderer's feature checks;
    without a model (`has_model` False) jobs that need diffusion are refused at submission."""
    app = FastAPI(title="Deforum API", version=__version__, description=DESCRIPTION)
    app.include_router(build_router(queue, auth=auth, allow_local_files=allow_local_files,
                                    preflight=server_preflight(has_model), max_body_bytes=max_body_bytes,
                                    allow_urls=allow_urls))
    return app


@dataclass(frozen=True)
class ServeOptions:
    """How `deforum serve` runs."""

    host: str = "127.0.0.1"
    port: int = 7861
    outdir: Path = Path("outputs")
    auth: str | None = None
    allow_local_files: bool = False
    access_log: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    retention: Retention = Retention()
    allow_urls: bool = False
    model: str | None = None
    models_dir: str | None = None


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def serve(options: ServeOptions, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve the API with uvicorn until interrupted; running jobs are cancelled on the way out."""
    root = Path(options.outdir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    model = KeptModel(options.model, options.models_dir) if options.model else None
    if model is not None:
        model.load()
    environment = Environment(model=model, models_dir=options.models_dir)
    queue = JobQueue(render_fn(root, environment), output_root=root, store=JobStore(store_path(root)),
                     retention=options.retention)
    require_public_urls()
    app = create_app(queue, auth=options.auth, allow_local_files=options.allow_local_files,
                     max_body_bytes=options.max_body_bytes, allow_urls=options.allow_urls, has_model=model is not None)
    sock = bind(options.host, options.port)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(app, access_log=options.access_log, log_level="info" if options.access_log else "warning")
    server = uvicorn.Server(config)
    if on_ready:
        on_ready(f"http://{f'[{host}]' if ':' in host else host}:{port}")
    try:
        server.run(sockets=[sock])
    finally:
        queue.shutdown(cancel_running=True, timeout=SHUTDOWN_WAIT_SECONDS)
        queue.store.close()
        sock.close()
