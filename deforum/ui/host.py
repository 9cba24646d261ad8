"""What the tab needs from the program hosting it: the WebUI adapter builds a TabHost and hands it to build_tab."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from deforum.models.settings import Settings


class RunOutcome(Protocol):
    """What a finished render reports back to the tab."""

    cancelled: bool
    frames_written: int
    outdir: Path
    timestring: str
    video: Path | None


@dataclass(frozen=True)
class VideoFacts:
    """What the Output tools show of an uploaded video or set of pictures."""

    frames: int
    fps: float | None
    width: int
    height: int


def start_settings() -> Settings:
    """What a fresh tab shows: the defaults in 2D, as the original's UI started (files keep their own default)."""
    return Settings().replace(animation_mode="2D")


def _no_model() -> tuple[str, str]:
    """No checkpoint name or hash (outside a WebUI)."""
    return "", ""


def _nothing() -> None:
    """A button that has nothing to act on outside a WebUI."""


def _bare(handler: Callable[..., Any], extra_outputs: list[Any]) -> Callable[..., Any]:
    """The handler as it is (a WebUI wraps it in its queue lock and progress bar)."""
    del extra_outputs
    return handler


def _no_tool(*_args: Any) -> str:
    """A tool that needs a host."""
    raise RuntimeError("This tool needs the WebUI (or the `deforum` command line).")


@dataclass(frozen=True)
class ToolActions:
    """The Output panel's tools, each returning the path it wrote (errors as ValueError/OSError/RuntimeError)."""

    frames_to_video: Callable[[str, float, str], str] = _no_tool
    vid2depth: Callable[..., str] = _no_tool
    interpolate: Callable[..., str] = _no_tool
    upscale: Callable[..., str] = _no_tool
    video_facts: Callable[[Sequence[str]], VideoFacts] | None = None


@dataclass(frozen=True)
class TabHost:
    """The callables and lists the tab uses from its host (defaults: a tab that renders nothing)."""

    render: Callable[[Settings], RunOutcome] | None = None
    recent_frames: Callable[[RunOutcome], list[str]] = lambda _result: []
    model_info: Callable[[], tuple[str, str]] = _no_model
    initial_settings: Callable[[], Settings] = start_settings
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)
    wrap_gpu_call: Callable[[Callable[..., Any], list[Any]], Callable[..., Any]] = _bare
    interrupt: Callable[[], None] = _nothing
    skip: Callable[[], None] = _nothing
    tools: ToolActions = field(default_factory=ToolActions)
    controlnet_present: bool = False
    enhance_prompts: Callable[[Settings], tuple[Mapping[str, str], Mapping[str, str]]] | None = None  # (before, after)
