"""Stub of modules.call_queue: the generation lock and the wrapper the WebUI puts around its generate buttons."""

from __future__ import annotations

import functools
import html
import threading
from collections.abc import Callable
from typing import Any

from modules import shared

queue_lock = threading.Lock()


def wrap_gradio_gpu_call(func: Callable[..., Any], extra_outputs: list[Any] | None = None) -> Callable[..., Any]:
    """Hold the lock and the job state; on error answer extra_outputs plus an error HTML (as the WebUI does)."""

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> list[Any]:
        with queue_lock:
            shared.state.begin(job=str(args[0]) if args else "")
            try:
                res = list(func(*args, **kwargs))
            except Exception as err:  # the WebUI shows the error in the last output
                res = list(extra_outputs or [None, ""]) + [f"<div class='error'>{html.escape(repr(err))}</div>"]
            finally:
                shared.state.end()
                shared.state.skipped = shared.state.interrupted = False
        return res

    return wrapped
