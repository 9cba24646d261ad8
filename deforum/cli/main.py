"""The command line's parser and entry point: every command registered, errors reported as one message."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable, Sequence

from deforum.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_INVALID
from deforum.cli.models import add_download_flags, apply_download_flags
from deforum.cli.settings import add_schedule_command, add_settings_commands
from deforum.models.settings import SettingsError

CommandAdder = Callable[[argparse._SubParsersAction], None]


def build_parser(extra_commands: Sequence[CommandAdder] = ()) -> argparse.ArgumentParser:
    """The argument parser with every command."""
    parser = argparse.ArgumentParser(prog="deforum", description="Deforum: keyframed camera motion + diffusion video.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    add_download_flags(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    add_settings_commands(sub)
    add_schedule_command(sub)
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
    from deforum.cli.audio import add_audio_command
    from deforum.cli.depth import add_depth_command
    from deforum.cli.models import add_models_command
    from deforum.cli.render import add_render_command
    from deforum.cli.serve import add_serve_command
    from deforum.cli.tools import add_frames_command, add_interpolate_command, add_upscale_command
    from deforum.cli.wan import add_wan_command

    parser = build_parser((add_render_command, add_serve_command, add_depth_command, add_interpolate_command,
                           add_upscale_command, add_frames_command, add_wan_command, add_models_command,
                           add_audio_command))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    apply_download_flags(args)
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
