"""Wan in a worker process, for hosts whose Python lacks diffusers' Wan pipelines (A1111 v1.10).

``pipeline_loader_for(models)`` is the switch: diffusers' Wan pipelines in this process when they import here,
else a ``WorkerLoader`` whose pipelines are proxies of the real ones in a worker process (worker_main) running on
the isolated environment (worker_env). The render's own code runs unchanged on the proxies: generate_clip calls
them like pipelines, its step callback sees every step (so cancel reaches the worker within a clip), and
resuming works as before because frames are written by the render, not by the worker.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from deforum.integrations.wan.models import WanModel, WanModelError, WanModels
from deforum.integrations.wan.worker_protocol import Message, encode, parse, send

log = logging.getLogger(__name__)

WORKER_ENV = "DEFORUM_WAN_WORKER"  # "1": always use the worker; "0": never
PROJECT_ROOT = Path(__file__).resolve().parents[3]
STDERR_LINES = 40


def wan_runs_here() -> bool:
    """Whether diffusers' Wan pipelines import in this Python."""
    try:
        from diffusers import WanPipeline  # noqa: F401
    except ImportError:
        return False
    return True


def use_worker() -> bool:
    """The worker is used when $DEFORUM_WAN_WORKER says so, else when Wan cannot run in this process."""
    choice = os.environ.get(WORKER_ENV, "").strip()
    return choice == "1" if choice in ("0", "1") else not wan_runs_here()


class WorkerProcess:
    """A running worker: requests on its stdin, messages from its stdout, its stderr copied into our log."""

    def __init__(self, python: str) -> None:
        self.exchange = Path(tempfile.mkdtemp(prefix="deforum-wan-"))
        self.stderr: deque[str] = deque(maxlen=STDERR_LINES)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]), "PYTHONNOUSERSITE": "1"}
        self.proc = subprocess.Popen([python, "-m", "deforum.integrations.wan.worker_main", str(self.exchange)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, encoding="utf-8", env=env)
        self.stderr_thread = threading.Thread(target=self._copy_stderr, daemon=True)
        self.stderr_thread.start()
        started = self.receive()
        log.info("Wan worker started (%s).", started.get("python"))

    def _copy_stderr(self) -> None:
        """Log the worker's stderr line by line and keep the last lines for error messages."""
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())
            log.info("wan worker: %s", line.rstrip())

    def request(self, message: Message) -> None:
        """Send one request."""
        send(self.proc.stdin, message)

    def receive(self) -> Message:
        """The next message; an error message or a dead worker raises, naming the cause."""
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            self.stderr_thread.join(10)
            tail = "\n".join(self.stderr)
            raise RuntimeError(f"The Wan worker stopped (exit code {self.proc.returncode}):\n{tail}")
        message = parse(line)
        if message.get("event") == "error":
            error = WanModelError if message.get("kind") == "WanModelError" else RuntimeError
            raise error(f"Wan worker: {message.get('message')}")
        return message

    def ask(self, message: Message) -> Message:
        """Send a request and return its answer."""
        self.request(message)
        return self.receive()

    def close(self) -> None:
        """Ask the worker to quit (kill it when it does not), then remove the exchange folder."""
        if self.proc.poll() is None:
            try:
                self.request({"op": "quit"})
                self.proc.wait(30)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.exchange, ignore_errors=True)


class RemotePipeline:
    """Stands in for a pipeline living in the worker; subclassed per remote class name (see WorkerLoader)."""

    def __init__(self, worker: WorkerProcess, role: str) -> None:
        self.worker = worker
        self.role = role
        self._interrupt = False

    def __call__(self, *, callback_on_step_end: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        """Run the call in the worker; each step reaches ``callback_on_step_end``, which may interrupt it."""
        self._interrupt = False
        self.worker.request({"op": "call", "role": self.role, "kwargs": encode(kwargs, self.worker.exchange)})
        while (message := self.worker.receive()).get("event") == "step":
            if callback_on_step_end is not None and not self._interrupt:
                callback_on_step_end(self, message["step"] - 1, None, {})
                if self._interrupt:
                    self.worker.request({"op": "cancel"})
        frames = np.load(message["path"], allow_pickle=False)
        Path(message["path"]).unlink(missing_ok=True)
        return SimpleNamespace(frames=[frames])


def _model_entry(model: WanModel | None) -> dict[str, str] | None:
    """A model as the worker's setup request carries it."""
    return None if model is None else {"path": str(model.path), "kind": model.kind, "label": model.label}


class WorkerLoader:
    """role → proxy pipeline, the worker started on first use; ``close()`` stops it (render_wan calls it)."""

    def __init__(self, models: WanModels, python: str, device: str | None = None) -> None:
        self.models = models
        self.python = python
        self.device = device
        self.worker: WorkerProcess | None = None
        self.pipes: dict[str, RemotePipeline] = {}

    def __call__(self, role: str) -> RemotePipeline:
        """The proxy for a role's pipeline, its class named as the remote one (clip_arguments reads the name)."""
        if self.worker is None:
            self.worker = WorkerProcess(self.python)
            self.worker.ask({"op": "setup", "text": _model_entry(self.models.text),
                             "image": _model_entry(self.models.image), "device": self.device})
        if role not in self.pipes:
            name = self.worker.ask({"op": "load", "role": role})["class"]
            self.pipes[role] = type(name, (RemotePipeline,), {})(self.worker, role)
        return self.pipes[role]

    def close(self) -> None:
        """Stop the worker (its models go with it)."""
        if self.worker is not None:
            self.worker.close()
        self.worker, self.pipes = None, {}


def pipeline_loader_for(models: WanModels, *, attention: str | None = None) -> Callable[[str], Any]:
    """The pipelines of a run: in this process when diffusers' Wan imports here (with the `attention` mode), else
    through the worker (which keeps diffusers' default attention)."""
    if not use_worker():
        from deforum.integrations.wan.pipelines import default_loader

        return default_loader(models) if attention is None else default_loader(models, attention=attention)
    from deforum.integrations.wan.worker_env import worker_python

    log.info("Wan: this Python has no diffusers Wan pipelines; running Wan in a worker process.")
    return WorkerLoader(models, worker_python())  # the environment is made (once) before anything is written
