"""The `settings check|export` and `schedule` commands: validate, export and evaluate without rendering."""

from __future__ import annotations

import argparse
import sys

from deforum.models.settings import Settings

EXIT_OK = 0


def _summary(settings: Settings) -> str:
    """One line describing a loaded settings file."""
    a, anim = settings.args, settings.anim
    return (f"{anim.animation_mode} animation, {anim.max_frames} frames at {a.W}x{a.H}, "
            f"cadence {anim.diffusion_cadence}, {len(settings.prompts)} prompt keyframe(s), "
            f"seed {a.seed} ({a.seed_behavior})")


def cmd_settings_check(args: argparse.Namespace) -> int:
    """Validate a settings file and print a summary."""
    from deforum.config.settings_io import load

    settings = load(args.file)
    for note in settings.warnings:
        print(f"note: {note}", file=sys.stderr)
    print(f"OK: {args.file}: {_summary(settings)}")
    return EXIT_OK


def cmd_settings_export(args: argparse.Namespace) -> int:
    """Write the canonical flat JSON of a settings file."""
    from deforum.config.overrides import apply_overrides
    from deforum.config.settings_io import dumps, load, save, to_file_dict

    settings = apply_overrides(load(args.file), args.set or [])
    if args.output:
        save(settings, args.output, shape=args.shape)
        print(args.output)
    else:
        print(dumps(to_file_dict(settings, shape=args.shape)))
    return EXIT_OK


def cmd_schedule(args: argparse.Namespace) -> int:
    """Print the per-frame values of a schedule as a JSON list."""
    from deforum.animation.schedule_cli import run_schedule_command

    print(run_schedule_command(args.schedule, args.frames, args.seed))
    return EXIT_OK


def add_settings_commands(sub: argparse._SubParsersAction) -> None:
    """The `settings check` and `settings export` commands."""
    settings = sub.add_parser("settings", help="check or export a settings file")
    settings_sub = settings.add_subparsers(dest="settings_command", required=True)
    check = settings_sub.add_parser("check", help="validate a settings file (exit 2 when invalid)")
    check.add_argument("file")
    check.set_defaults(handler=cmd_settings_check)
    export = settings_sub.add_parser("export", help="write the canonical flat JSON of a settings file")
    export.add_argument("file")
    export.add_argument("-o", "--output", help="output file (default: print to stdout)")
    export.add_argument("--shape", choices=("ui", "run"), default="ui",
                        help="'ui': the Save Settings shape (default); 'run': the render's settings file shape")
    export.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting (repeatable)")
    export.set_defaults(handler=cmd_settings_export)


def add_schedule_command(sub: argparse._SubParsersAction) -> None:
    """Register `schedule "0:(1), 10:(sin(t))" --frames N [--seed S]`."""
    schedule = sub.add_parser("schedule", help="print a schedule's per-frame values as JSON")
    schedule.add_argument("schedule", help='e.g. "0:(1), 10:(sin(t))"')
    schedule.add_argument("--frames", type=int, required=True, help="number of frames (max_frames)")
    schedule.add_argument("--seed", type=int, default=-1, help="value of `s` in expressions")
    schedule.set_defaults(handler=cmd_schedule)
