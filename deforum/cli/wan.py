"""Command line for Wan Video: `wan plan` (print the clips), `wan enhance` (Qwen prompts), and render dispatch."""

from __future__ import annotations

import argparse
import functools
import signal
import sys
from pathlib import Path

from deforum.cli.exits import EXIT_INTERRUPTED
from deforum.core.services import CancelToken
from deforum.models.settings import Settings

WAN_PREVIEW = ("Wan Video has no motion preview (there is no warping to preview); print the clip plan with "
               "`python -m deforum wan plan SETTINGS` instead.")


def _settings(args: argparse.Namespace) -> Settings:
    """The settings file with --set overrides applied."""
    from deforum.config.overrides import apply_overrides
    from deforum.config.settings_io import load

    return apply_overrides(load(args.settings), args.set or [])


def cmd_wan_plan(args: argparse.Namespace) -> int:
    """Print the clip plan (no weights needed); a seed of -1 is shown as 0 unless --seed is given."""
    from deforum.integrations.wan.plan import format_plan, plan_clips

    settings = _settings(args)
    seed = args.seed if args.seed is not None else max(settings.args.seed, 0)
    print(format_plan(plan_clips(settings, seed)))
    return 0


def cmd_wan_enhance(args: argparse.Namespace) -> int:
    """Print the prompts enhanced by a local Qwen2.5 model as JSON for wan_enhanced_prompts."""
    from deforum.integrations.wan.enhance import enhance_settings_prompts, enhanced_prompts_json

    enhanced = enhance_settings_prompts(_settings(args), qwen=args.qwen, models_dir=args.models_dir)
    print(enhanced_prompts_json(enhanced))
    return 0


def cmd_render_wan(settings: Settings, args: argparse.Namespace) -> int:
    """`render` for animation_mode 'Wan Video': Ctrl-C stops after the current clip; prints the folder last."""
    from tqdm import tqdm

    from deforum.integrations.post.postprocess import check_postprocess_weights, run_postprocess
    from deforum.integrations.wan.render import render_wan

    if args.preview or settings.args.motion_preview_mode:
        raise ValueError(WAN_PREVIEW)
    bar = tqdm(total=settings.anim.max_frames, unit="frame", file=sys.stderr, dynamic_ncols=True)
    cancel = CancelToken()

    def on_interrupt(signum: int, frame: object) -> None:
        """First Ctrl-C: stop after this clip (the video is still made); a second one aborts."""
        cancel.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    check_postprocess_weights(settings, args.models_dir)
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        result = render_wan(settings, Path(args.outdir), cancel=cancel, models_dir=args.models_dir,
                            progress=lambda done, total: bar.update(max(0, done - bar.n)), resume=args.resume,
                            postprocess=functools.partial(run_postprocess, models_dir=args.models_dir))
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
    if result.cancelled:
        print(f"interrupted: {result.frames_written} frame(s) written; continue with --resume {result.timestring}",
              file=sys.stderr)
    if result.video:
        print(f"video: {result.video}", file=sys.stderr)
    print(result.outdir)
    return EXIT_INTERRUPTED if result.cancelled else 0


def add_wan_command(sub: argparse._SubParsersAction) -> None:
    """Register `wan plan SETTINGS [--seed S]` and `wan enhance SETTINGS [--qwen PATH]`."""
    wan = sub.add_parser("wan", help="Wan Video tools: print the clip plan, enhance prompts with a local LLM")
    wan_sub = wan.add_subparsers(dest="wan_command", required=True)
    plan = wan_sub.add_parser("plan", help="print the clips a Wan Video render makes (no weights needed)")
    enhance = wan_sub.add_parser("enhance", help="print the prompts rewritten by a local Qwen2.5 instruct model "
                                                 "as JSON for wan_enhanced_prompts")
    for command in (plan, enhance):
        command.add_argument("settings", help="settings file")
        command.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting (repeatable)")
    plan.add_argument("--seed", type=int, help="run seed to show when the file's seed is -1")
    plan.set_defaults(handler=cmd_wan_plan)
    enhance.add_argument("--qwen", metavar="PATH", help="Qwen2.5 instruct model folder (default: found in models/)")
    enhance.add_argument("--models-dir", help="models folder searched for Deforum/wan/Qwen2.5-*-Instruct")
    enhance.set_defaults(handler=cmd_wan_enhance)
