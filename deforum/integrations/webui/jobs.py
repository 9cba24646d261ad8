"""Deforum's REST API and --deforum-run-now inside the WebUI: one job queue rendering with the WebUI's model."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from deforum.config.settings_io import read_json_file
from deforum.core.run import RunResult
from deforum.core.services import CancelToken
from deforum.integrations.features.hooks import preflight
from deforum.integrations.webui import host
from deforum.integrations.webui.controlnet import controlnet_problems
from deforum.integrations.webui.loading import load_mapping
from deforum.integrations.webui.render import render_settings
from deforum.models.settings import Settings, SettingsError

log = logging.getLogger(__name__)

LOCAL_HOSTS = (None, "", "127.0.0.1", "localhost", "::1")
# The WebUI has no command line of ours: the API's limits come from the environment (defaults as `deforum serve`).
ENV_KEEP_DAYS, ENV_KEEP_JOBS, ENV_MAX_BODY_MB = "DEFORUM_API_KEEP_JOBS_DAYS", "DEFORUM_API_KEEP_JOBS", \
    "DEFORUM_API_MAX_BODY_MB"
_QUEUE: dict[str, Any] = {}
_LOCK = threading.Lock()


def job_render_fn(root: Path) -> Callable[[Settings, CancelToken, Any], RunResult]:
    """The JobQueue's render_fn: a unique run id, the folder kept inside root, the WebUI's lock and job state."""
    from deforum.integrations.api.standalone import TimestringAllocator, claim_run

    allocator = TimestringAllocator()

    def render(settings: Settings, cancel: CancelToken, progress: Any) -> RunResult:
        """Render one queued job."""
        timestring, _resume = claim_run(settings, root, allocator, progress)
        with host.webui_job(f"deforum {progress.job_id}"):
            return render_settings(settings, root=root, cancel=cancel, progress=progress, timestring=timestring,
                                   overrides=progress.options_overrides)

    return render


def job_queue() -> Any:
    """The one job queue of this WebUI process (created on first use, output root from the WebUI options)."""
    from deforum.integrations.api.jobs import JobQueue
    from deforum.integrations.api.store import JobStore, store_path

    with _LOCK:
        if "queue" not in _QUEUE:
            root = host.output_root().resolve()
            _QUEUE["queue"] = JobQueue(job_render_fn(root), output_root=root, store=JobStore(store_path(root)),
                                       retention=retention_from_env())
        return _QUEUE["queue"]


def _env_number(name: str, default: float) -> float:
    """A non-negative number from the environment; a bad value is logged and the default used."""
    text = os.environ.get(name, "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        value = -1.0
    if value < 0:
        log.warning("Deforum: %s=%r is not a number >= 0; using %s.", name, text, default)
        return default
    return value


def retention_from_env() -> Any:
    """Finished API jobs kept DEFORUM_API_KEEP_JOBS_DAYS days (7) and at most DEFORUM_API_KEEP_JOBS (1000)."""
    from deforum.integrations.api.store import Retention

    return Retention(days=_env_number(ENV_KEEP_DAYS, 7.0), jobs=int(_env_number(ENV_KEEP_JOBS, 1000)))


def max_body_bytes_from_env() -> int:
    """The API's request-body limit: DEFORUM_API_MAX_BODY_MB MiB (16)."""
    return int(_env_number(ENV_MAX_BODY_MB, 16.0) * 1024 * 1024) or 1


def allows_local_files() -> bool:
    """Settings over HTTP may name local files only when the WebUI listens on this machine alone."""
    exposed = host.flag("listen", False) or host.flag("share", False) or host.flag("ngrok", None)
    return not exposed and host.flag("server_name", None) in LOCAL_HOSTS


def webui_preflight(settings: Settings) -> list[str]:
    """Problems to refuse at submission: unsupported features, bad manifests, ControlNet without its extension.

    'Wan Video' is accepted: render_settings runs it on the Wan renderer, as the tab does.
    """
    return [*preflight(settings, wan=True), *controlnet_problems(settings)]


def mount_api(app: Any, *, batch_api: bool, simple_api: bool) -> None:
    """Add the API routes to the WebUI's FastAPI app, behind the WebUI's --api-auth credentials when given."""
    from deforum.integrations.api.router import build_router

    router = build_router(job_queue(), auth=host.flag("api_auth", None) or None, preflight=webui_preflight,
                          allow_local_files=allows_local_files(), batch_api=batch_api, simple_api=simple_api,
                          max_body_bytes=max_body_bytes_from_env())
    app.include_router(router)
    log.info("Deforum API mounted (batches/jobs: %s, simple: %s).", batch_api, simple_api)


def load_run_now(files: Sequence[str]) -> tuple[list[Settings], list[dict[str, Any]], list[str]]:
    """Load each --deforum-run-now file; the ones that fail are reported and left out."""
    loaded: list[Settings] = []
    raws: list[dict[str, Any]] = []
    failed: list[str] = []
    for name in files:
        try:
            raw = read_json_file(name)
            loaded.append(load_mapping(raw, name))
            raws.append(raw)
        except SettingsError as err:
            log.error("Deforum --deforum-run-now: %s", err)
            failed.append(name)
    return loaded, raws, failed


def run_now(files: Sequence[str], *, terminate: bool = False, exit_fn: Callable[[int], None] = os._exit) -> int:
    """Render the settings files one after another through the job queue; exit the WebUI after when asked."""
    settings, raws, failed = load_run_now(files)
    queue = job_queue()
    job_ids = queue.submit(settings, raws)[1] if settings else []
    results = [queue.wait(job_id) for job_id in job_ids]
    for record in results:
        log.info("Deforum run-now job %s: %s %s", record.id, record.status.value, record.outdir or record.message)
    code = 0 if not failed and all(r.status.value == "SUCCEEDED" for r in results) else 1
    if terminate:
        log.info("Deforum: --deforum-terminate-after-run-now: exiting with status %d.", code)
        exit_fn(code)
    return code


def start_run_now(spec: str, *, terminate: bool) -> threading.Thread:
    """Run --deforum-run-now's comma-separated files in a background thread (startup is not held up)."""
    files = [name.strip() for name in spec.split(",") if name.strip()]
    thread = threading.Thread(target=run_now, args=(files,), kwargs={"terminate": terminate},
                              name="deforum-run-now", daemon=True)
    thread.start()
    return thread


def on_app_started(demo: Any, app: Any) -> None:
    """The on_app_started callback: mount the API and start --deforum-run-now as the flags say."""
    batch_api, simple_api = bool(host.flag("deforum_api", False)), bool(host.flag("deforum_simple_api", False))
    if batch_api or simple_api:
        mount_api(app, batch_api=batch_api, simple_api=simple_api)
    if host.flag("deforum_run_now", None):
        start_run_now(host.flag("deforum_run_now"), terminate=bool(host.flag("deforum_terminate_after_run_now")))
