"""The standalone server: motion-preview renders through run_render, the router on a FastAPI app, uvicorn."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from deforum import __version__
from deforum.core.run import RunResult, output_folder, run_render
from deforum.core.services import CancelToken
from deforum.integrations.api.auth import AuthSpec
from deforum.integrations.api.jobs import JobProgress, JobQueue, RenderFn
from deforum.integrations.api.limits import DEFAULT_MAX_BODY_BYTES
from deforum.integrations.api.paths import is_inside
from deforum.integrations.api.router import build_router
from deforum.integrations.api.store import JobStore, Retention, store_path
from deforum.integrations.features.hooks import preflight, render_hooks
from deforum.integrations.services import Environment, services_for
from deforum.media.remote import require_public_urls
from deforum.models.settings import Settings

log = logging.getLogger(__name__)

TIMESTRING_FORMAT = "%Y%m%d%H%M%S"
MAX_TIMESTRING_TRIES = 10_000
SHUTDOWN_WAIT_SECONDS = 10.0
DESCRIPTION = ("Deforum's REST API: submit settings (the JSON of a *_settings.txt file), poll job status, cancel. "
               "This standalone server renders motion previews (no diffusion model).")


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


def preview_render_fn(output_root: Path, environment: Environment | None = None) -> RenderFn:
    """A render_fn that renders motion previews into output_root, with depth and flow models when on disk."""
    root = Path(output_root).resolve()
    allocator = TimestringAllocator()
    environment = environment or Environment()

    def render(settings: Settings, cancel: CancelToken, progress: JobProgress) -> RunResult:
        """Render one job; its output folder must lie inside the root."""
        settings = settings.replace(motion_preview_mode=True)
        timestring, resume = claim_run(settings, root, allocator, progress)
        services = services_for(settings, environment)
        return run_render(settings, services, root, resume=resume, cancel=cancel, progress=progress,
                          timestring=timestring, hooks=render_hooks(settings))

    return render


def create_app(queue: JobQueue, *, auth: AuthSpec | None = None, allow_local_files: bool = False,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, allow_urls: bool = False) -> FastAPI:
    """A FastAPI app serving the whole API (docs at /docs), with the standalone renderer's feature checks."""
    app = FastAPI(title="Deforum API", version=__version__, description=DESCRIPTION)
    app.include_router(build_router(queue, auth=auth, allow_local_files=allow_local_files,
                                    preflight=preflight, max_body_bytes=max_body_bytes, allow_urls=allow_urls))
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
    queue = JobQueue(preview_render_fn(root), output_root=root, store=JobStore(store_path(root)),
                     retention=options.retention)
    require_public_urls()
    app = create_app(queue, auth=options.auth, allow_local_files=options.allow_local_files,
                     max_body_bytes=options.max_body_bytes, allow_urls=options.allow_urls)
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
