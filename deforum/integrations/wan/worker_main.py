"""The Wan worker process: loads Wan pipelines in its own environment and runs the calls the render sends.

Run as ``python -m deforum.integrations.wan.worker_main EXCHANGE_DIR`` (worker.py starts it). Requests on stdin:
``setup`` (the models), ``load`` (a role's pipeline; answers its class name), ``call`` (pipeline arguments;
answers ``step`` events then the frames file), ``cancel`` (read while a call runs: stops it at the next step)
and ``quit``. Anything the libraries print goes to stderr, so stdout carries messages only.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
from pathlib import Path
from typing import IO, Any

from deforum.integrations.wan.worker_protocol import Message, decode, parse, save_frames, send

log = logging.getLogger("deforum.wan.worker")


class Worker:
    """One worker's state: its pipelines, the cancel flag of the running call, and the message streams."""

    def __init__(self, out: IO[str], exchange: Path) -> None:
        self.out = out
        self.exchange = exchange
        self.cancel = threading.Event()
        self.requests: queue.Queue[Message | None] = queue.Queue()
        self.loader: Any = None
        self.pipes: dict[str, Any] = {}

    def read_requests(self, stream: IO[str]) -> None:
        """Queue each request line; a cancel takes effect at once (the main thread may be inside a call)."""
        for line in stream:
            message = parse(line)
            if message.get("op") == "cancel":
                self.cancel.set()
            else:
                self.requests.put(message)
        self.requests.put(None)

    def setup(self, message: Message) -> Message:
        """Remember the run's models; pipelines load on first use of their role."""
        from deforum.integrations.wan.models import WanModel, WanModels
        from deforum.integrations.wan.pipelines import check_wan_support, default_loader

        check_wan_support()
        def model(entry: dict[str, str] | None) -> WanModel | None:
            return None if entry is None else WanModel(Path(entry["path"]), entry["kind"], entry["label"])

        models = WanModels(model(message["text"]), model(message["image"]))
        self.loader, self.pipes = default_loader(models, device=message.get("device")), {}
        return {"event": "ready"}

    def load(self, message: Message) -> Message:
        """Load (once) the pipeline for a role; answers its class name, which decides the clip's inputs."""
        role = message["role"]
        if role not in self.pipes:
            self.pipes[role] = self.loader(role)
        return {"event": "loaded", "class": type(self.pipes[role]).__name__}

    def call(self, message: Message) -> Message:
        """Run one pipeline call, reporting each step; a cancel interrupts it at the next step."""
        self.cancel.clear()
        pipe = self.pipes[message["role"]]

        def on_step_end(pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            send(self.out, {"event": "step", "step": step + 1})
            if self.cancel.is_set():
                pipeline._interrupt = True
            return tensors

        result = pipe(**decode(message["kwargs"]), callback_on_step_end=on_step_end)
        return {"event": "frames", "path": save_frames(result.frames[0], self.exchange),
                "cancelled": self.cancel.is_set()}

    def serve(self) -> None:
        """Answer requests until ``quit`` or the end of stdin; errors are answered, not fatal."""
        handlers = {"setup": self.setup, "load": self.load, "call": self.call}
        while (message := self.requests.get()) is not None and message.get("op") != "quit":
            try:
                send(self.out, handlers[message["op"]](message))
            except Exception as exc:  # noqa: BLE001 - every failure goes back to the render as a message
                log.exception("Wan worker: %s failed", message.get("op"))
                send(self.out, {"event": "error", "kind": type(exc).__name__, "message": str(exc)})


def _message_stream() -> IO[str]:
    """stdout kept for messages; fd 1 then points at stderr so stray prints cannot break the protocol."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def main(argv: list[str] | None = None) -> int:
    """Serve one render: exchange folder from argv, requests on stdin, messages on stdout."""
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    worker = Worker(_message_stream(), Path(args[0]))
    threading.Thread(target=worker.read_requests, args=(sys.stdin,), daemon=True).start()
    send(worker.out, {"event": "started", "python": sys.executable})
    worker.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
