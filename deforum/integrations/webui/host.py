"""The WebUI host: every `modules.*` import of the extension goes through these small accessors."""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_SAMPLER = "Euler a"
AUTOMATIC_SCHEDULER = "Automatic"


def module(name: str) -> ModuleType:
    """Import `modules.<name>` from the running WebUI (ImportError outside a WebUI)."""
    return importlib.import_module(f"modules.{name}")


def shared() -> ModuleType:
    """The WebUI's `modules.shared` (opts, state, cmd_opts, sd_model)."""
    return module("shared")


def opts() -> Any:
    """The WebUI's options object."""
    return shared().opts


def state() -> Any:
    """The WebUI's global job state (interrupted, skipped, job_count, current image)."""
    return shared().state


def cmd_opts() -> Any:
    """The WebUI's parsed command line."""
    return shared().cmd_opts


def flag(name: str, default: Any = None) -> Any:
    """A command-line value, or default when the WebUI does not define that flag."""
    return getattr(cmd_opts(), name, default)


def option(name: str, default: Any = None) -> Any:
    """A WebUI option value from opts.data, or default when unset."""
    return opts().data.get(name, default)


def models_dir() -> Path:
    """The WebUI's models folder (`models/` unless --models-dir says otherwise)."""
    return Path(module("paths").models_path)


def output_root() -> Path:
    """Where renders go, as the original: opts.outdir_samples, else opts.outdir_img2img_samples."""
    folder = option("outdir_samples") or option("outdir_img2img_samples") or "outputs/img2img-images"
    path = Path(folder)
    return path if path.is_absolute() else Path.cwd() / path


def low_vram() -> bool:
    """True under --lowvram or --medvram (depth models then run on the CPU)."""
    return bool(flag("lowvram", False) or flag("medvram", False))


def device() -> str:
    """The torch device the WebUI renders on, as a string ("cpu" under --lowvram/--medvram for depth)."""
    if low_vram():
        return "cpu"
    return str(getattr(shared(), "device", None) or getattr(module("devices"), "device", "cpu"))


def sampler_names() -> list[str]:
    """The samplers the WebUI offers (its hidden ones excluded)."""
    samplers = module("sd_samplers")
    names = samplers.visible_sampler_names() if hasattr(samplers, "visible_sampler_names") else []
    return list(names) or [s.name for s in getattr(samplers, "samplers_for_img2img", [])] or [DEFAULT_SAMPLER]


def scheduler_names() -> list[str]:
    """The WebUI's schedule types ("Automatic" first); only "Automatic" on WebUIs without them."""
    try:
        return [s.label for s in module("sd_schedulers").schedulers]
    except ImportError:
        return [AUTOMATIC_SCHEDULER]


def checkpoint_titles() -> list[str]:
    """The checkpoints the WebUI lists."""
    return list(module("sd_models").checkpoint_tiles())


def model_info() -> tuple[str, str]:
    """The loaded checkpoint's name and hash, for the settings files (empty when no model is loaded)."""
    info = getattr(getattr(shared(), "sd_model", None), "sd_checkpoint_info", None)
    return (str(getattr(info, "name", "") or ""), str(getattr(info, "hash", "") or "")) if info else ("", "")


def queue_lock() -> Any:
    """The WebUI's generation lock (one generation at a time, shared with txt2img/img2img)."""
    return module("call_queue").queue_lock


def wrap_gpu_call(func: Callable[..., Any], extra_outputs: list[Any]) -> Callable[..., Any]:
    """Wrap a UI handler as the WebUI wraps its own: queue lock, state.begin/end, progress, error HTML."""
    return module("call_queue").wrap_gradio_gpu_call(func, extra_outputs=extra_outputs)


@contextlib.contextmanager
def webui_job(name: str) -> Iterator[None]:
    """Hold the queue lock and the WebUI's job state for a render started outside a UI click."""
    with queue_lock():
        state().begin(job=name)
        try:
            yield
        finally:
            state().end()


@contextlib.contextmanager
def run_progress_bar() -> Iterator[None]:
    """Give one run its own console "Total progress" bar: the WebUI's bar is closed before and after it."""
    bar = getattr(shared(), "total_tqdm", None)
    if bar is not None:
        bar.clear()
    try:
        yield
    finally:
        if bar is not None:
            bar.clear()
