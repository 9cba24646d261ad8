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
    notes = f" ({len(settings.warnings)} note(s) above)" if settings.warnings else ""
    print(f"OK: {args.file}: {_summary(settings)}{notes}")
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


def cmd_settings_plot(args: argparse.Namespace) -> int:
    """Draw each varying schedule of a settings file over its frames."""
    from deforum.config.overrides import apply_overrides
    from deforum.config.settings_io import load
    from deforum.core.schedule_view import settings_plot

    settings = apply_overrides(load(args.file), args.set or [])
    print(settings_plot(settings).save(args.output))
    return EXIT_OK


def cmd_schedule(args: argparse.Namespace) -> int:
    """Print the per-frame values of a schedule as a JSON list (and draw it with --plot)."""
    from deforum.animation.schedule_cli import run_schedule_command
    from deforum.animation.variables import ScheduleVariables

    features = {}
    if args.audio:
        from deforum.media.audio import analyse_file

        features = analyse_file(args.audio, args.fps).features
    variables = ScheduleVariables(fps=args.fps, bpm=args.bpm, features=features)
    print(run_schedule_command(args.schedule, args.frames, args.seed, variables))
    if args.plot:
        from deforum.core.schedule_view import schedule_plot

        schedule_plot(args.schedule, args.frames, seed=args.seed, cadence=args.cadence,
                      variables=variables).save(args.plot)
        print(f"plot: {args.plot}", file=sys.stderr)
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
    plot = settings_sub.add_parser("plot", help="draw every varying schedule over frames (keyframes, cadence)")
    plot.add_argument("file")
    plot.add_argument("-o", "--output", default="schedules.png", help="PNG file to write (default schedules.png)")
    plot.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting (repeatable)")
    plot.set_defaults(handler=cmd_settings_plot)


def add_schedule_command(sub: argparse._SubParsersAction) -> None:
    """Register `schedule "0:(1), 10:(sin(t))" --frames N [--seed S] [--fps F] [--bpm B] [--plot PNG]`."""
    schedule = sub.add_parser("schedule", help="print a schedule's per-frame values as JSON")
    schedule.add_argument("schedule", help='e.g. "0:(1), 10:(sin(t))"')
    schedule.add_argument("--frames", type=int, required=True, help="number of frames (max_frames)")
    schedule.add_argument("--seed", type=int, default=-1, help="value of `s` in expressions")
    schedule.add_argument("--fps", type=float, default=15.0, help="value of `fps` (default 15)")
    schedule.add_argument("--bpm", type=float, default=0.0, help="value of `bpm`; `beat` = t*bpm/(60*fps)")
    schedule.add_argument("--audio", metavar="FILE", help="audio file for amp, onset, bass, mid, treble")
    schedule.add_argument("--plot", metavar="PNG", help="also draw the schedule, keyframes marked")
    schedule.add_argument("--cadence", type=int, default=1, help="shade the tween frames of this cadence in --plot")
    schedule.set_defaults(handler=cmd_schedule)
