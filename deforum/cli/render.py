"""The `render` command: settings file → frames and video (motion preview or a local checkpoint)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import TYPE_CHECKING

from deforum.cli.exits import EXIT_INTERRUPTED
from deforum.core.services import CancelToken
from deforum.models.modes import traits
from deforum.models.settings import Settings

if TYPE_CHECKING:
    from deforum.core.run import RunResult

log = logging.getLogger(__name__)

DEFAULT_OUTDIR = "outputs"


def _progress_bar(total: int):
    """A tqdm bar advanced to the frame number reported by the engine."""
    from tqdm import tqdm

    bar = tqdm(total=total, unit="frame", file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        """Advance the bar to frame `done` (of `total`: a Parseq manifest may change the frame count)."""
        if bar.total != total:
            bar.total = total
        bar.update(max(0, done - bar.n))

    return bar, update








def _preview_interval(text: str) -> int:
    """--preview-every: a frame count of at least 0 (0: no preview video)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of frames (0: off), got {text!r}")
    return value


def _srt_params(text: str | None) -> list[str] | None:
    """The --srt parameter names (None when --srt is not given)."""
    if text is None:
        return None
    from deforum.media.srt import SRT_PARAM_CHOICES

    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SRT_PARAM_CHOICES]
    if unknown:
        raise ValueError(f"--srt: unknown parameter(s) {', '.join(unknown)}. Allowed: {', '.join(SRT_PARAM_CHOICES)}")
    return names


def _cancel_on_first_interrupt(cancel: CancelToken):
    """A SIGINT handler: the first Ctrl-C stops after the current frame (video still made), a second aborts."""

    def handler(signum: int, frame: object) -> None:
        """Cancel, then restore the default handler."""
        cancel.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    return handler




def print_plan(settings: Settings) -> int:
    """--plan: print which frames are diffused and why (Wan Video: its clips); render nothing."""
    if not traits(settings.anim.animation_mode).frame_by_frame:
        from deforum.integrations.wan.plan import format_plan, plan_clips

        print(format_plan(plan_clips(settings, max(0, settings.args.seed))))
        return 0
    from deforum.core.run_inputs import plan_of
    from deforum.integrations.features.hooks import render_hooks

    print(plan_of(settings, render_hooks(settings)).describe())
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    """Load, override, render; print the output folder last."""
    from deforum.config.overrides import apply_overrides
    from deforum.config.settings_io import load
    from deforum.integrations.services import render_standalone

    settings = apply_overrides(load(args.settings), args.set or [])
    if args.plan:
        return print_plan(settings)
    if not traits(settings.anim.animation_mode).frame_by_frame:
        from deforum.cli.wan import cmd_render_wan

        return cmd_render_wan(settings, args)
    settings = settings.replace(motion_preview_mode=args.preview or settings.args.motion_preview_mode)
    subtitles = _srt_params(args.srt)
    bar, update = _progress_bar(settings.anim.max_frames)
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, _cancel_on_first_interrupt(cancel))
    try:
        result = render_standalone(settings, args.outdir, model=args.model, models_dir=args.models_dir,
                                   resume=args.resume, cancel=cancel, progress=update, subtitles=subtitles,
                                   preview_every=args.preview_every)
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
    _report_result(result)
    return EXIT_INTERRUPTED if result.cancelled else 0


def _report_result(result: RunResult) -> None:
    """Print the interruption note and the videos to stderr, the output folder last on stdout."""
    if result.cancelled:
        print(f"interrupted: {result.frames_written} frame(s) written; continue with --resume {result.timestring}",
              file=sys.stderr)
    for video in (result.video, *result.extra_videos):
        if video:
            print(f"video: {video}", file=sys.stderr)
    print(result.outdir)


def add_render_command(sub: argparse._SubParsersAction) -> None:
    """Register `render SETTINGS [--preview] [--set KEY=VALUE ...] [--outdir DIR] [--model PATH] [--resume TS]`."""
    render = sub.add_parser("render", help="render a settings file to frames and a video")
    render.add_argument("settings", help="settings file (.txt/.json as the original saves them)")
    render.add_argument("--preview", action="store_true", help="motion preview: no diffusion, runs anywhere")
    render.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting (repeatable)")
    render.add_argument("--outdir", default=DEFAULT_OUTDIR, help="output root; frames go to OUTDIR/<batch_name>/")
    render.add_argument("--model", help="local checkpoint for diffusion")
    render.add_argument("--models-dir",
                        help="folder with Deforum/<depth or RAFT model> (default $DEFORUM_MODELS_DIR, ./models)")
    render.add_argument("--srt", nargs="?", const="", metavar="PARAMS",
                        help="write <timestring>.srt with each frame's seed and these comma-separated parameters, "
                             "e.g. --srt 'Zoom,Angle,Prompt'")
    render.add_argument("--preview-every", type=_preview_interval, default=0, metavar="N",
                        help="while rendering, remake <timestring>_preview.mp4 of the frames so far every N frames "
                             "(the WebUI's 'Generate preview video during generation'; default 0: off)")
    render.add_argument("--resume", metavar="TIMESTRING", help="continue an interrupted run in the same folder")
    render.add_argument("--plan", action="store_true",
                        help="print the frame plan (which frames are diffused and why) and exit")
    render.set_defaults(handler=cmd_render)
