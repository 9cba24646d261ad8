"""`python -m deforum`: the command line (the only place in the package that prints)."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable, Sequence

from deforum.models.settings import Settings, SettingsError

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130


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


def _add_settings_commands(sub: argparse._SubParsersAction) -> None:
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


CommandAdder = Callable[[argparse._SubParsersAction], None]


def build_parser(extra_commands: Sequence[CommandAdder] = ()) -> argparse.ArgumentParser:
    """The argument parser with every command."""
    parser = argparse.ArgumentParser(prog="deforum", description="Deforum: keyframed camera motion + diffusion video.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_settings_commands(sub)
    schedule = sub.add_parser("schedule", help="print a schedule's per-frame values as JSON")
    schedule.add_argument("schedule", help='e.g. "0:(1), 10:(sin(t))"')
    schedule.add_argument("--frames", type=int, required=True, help="number of frames (max_frames)")
    schedule.add_argument("--seed", type=int, default=-1, help="value of `s` in expressions")
    schedule.set_defaults(handler=cmd_schedule)
    for add in extra_commands:
        add(sub)
    return parser


def _report(err: BaseException, verbose: bool) -> None:
    """Print an error as one message (the traceback only with --verbose)."""
    if verbose:
        traceback.print_exception(err)
    print(f"error: {err}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from deforum.cli_depth import add_depth_command
    from deforum.cli_render import add_render_command
    from deforum.cli_serve import add_serve_command
    from deforum.cli_tools import add_frames_command, add_interpolate_command, add_upscale_command
    from deforum.cli_wan import add_wan_command

    parser = build_parser((add_render_command, add_serve_command, add_depth_command, add_interpolate_command,
                           add_upscale_command, add_frames_command, add_wan_command))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.handler(args)
    except (SettingsError, ValueError, FileNotFoundError) as err:
        _report(err, args.verbose)
        return EXIT_INVALID
    except (OSError, RuntimeError) as err:
        _report(err, args.verbose)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
