"""The `serve` command: the REST API standalone (uvicorn, loopback by default; diffusion on --model, else motion
previews)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7861
DEFAULT_OUTDIR = "outputs"
AUTH_ENV = "DEFORUM_API_AUTH"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
SERVER_PACKAGES = ("fastapi", "uvicorn", "starlette", "pydantic")
NEEDS_FASTAPI = "The REST API needs fastapi and uvicorn: pip install fastapi uvicorn"


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The serve command's options."""
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)")
    parser.add_argument("--auth", default=os.environ.get(AUTH_ENV), metavar="USER:PASS[,USER2:PASS2]",
                        help=f"require HTTP Basic credentials (default: ${AUTH_ENV}, else none)")
    parser.add_argument("--outdir", default=DEFAULT_OUTDIR, help="output root; jobs write to OUTDIR/<batch_name>/")
    parser.add_argument("--model", metavar="PATH",
                        help="local checkpoint to diffuse with, loaded once at start and kept (checkpoint_schedule "
                             "switches it); without it only motion_preview_mode jobs are accepted")
    parser.add_argument("--models-dir", metavar="DIR",
                        help="WebUI-style models folder: checkpoints for checkpoint_schedule, Deforum/<depth or RAFT "
                             "model> (default $DEFORUM_MODELS_DIR, ./models)")
    parser.add_argument("--allow-local-files", action="store_true",
                        help="let settings read local files (init_image, video_init_path, ...); off by default")
    parser.add_argument("--allow-urls", action="store_true",
                        help="let settings name http(s) URLs (public addresses only); off by default")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument("--max-body-mb", type=float, default=16.0, help="largest request body in MiB (default 16)")
    parser.add_argument("--keep-jobs-days", type=float, default=7.0,
                        help="forget finished jobs this many days after their last update (default 7)")
    parser.add_argument("--keep-jobs", type=int, default=1000, help="keep at most this many finished jobs "
                        "(default 1000; job records live in OUTDIR/.deforum-jobs.sqlite3)")


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted (Ctrl-C); prints the address once listening."""
    try:
        from deforum.integrations.api.auth import parse_credentials
        from deforum.integrations.api.standalone import ServeOptions, serve
        from deforum.integrations.api.store import Retention
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] not in SERVER_PACKAGES:
            raise
        raise ValueError(f"{NEEDS_FASTAPI} ({err}).") from None
    if args.auth:
        parse_credentials(args.auth)
    elif args.host not in LOOPBACK_HOSTS:
        print(f"warning: serving on {args.host} without --auth: anyone who can reach it can queue renders.",
              file=sys.stderr)
    if not (args.max_body_mb > 0 and args.keep_jobs_days >= 0 and args.keep_jobs >= 0):
        raise ValueError("--max-body-mb must be positive, --keep-jobs-days and --keep-jobs at least 0.")
    options = ServeOptions(host=args.host, port=args.port, outdir=Path(args.outdir), auth=args.auth or None,
                           allow_local_files=args.allow_local_files, access_log=args.access_log,
                           max_body_bytes=int(args.max_body_mb * 1024 * 1024),
                           retention=Retention(days=args.keep_jobs_days, jobs=args.keep_jobs),
                           allow_urls=args.allow_urls, model=args.model, models_dir=args.models_dir)
    try:
        serve(options, on_ready=lambda url: print(f"Deforum API on {url} (docs: {url}/docs), output root "
                                                  f"{options.outdir.resolve()}", flush=True))
    except OSError as err:
        raise ValueError(f"Cannot serve on {args.host}:{args.port}: {err}. Choose another --host/--port.") from None
    except (RuntimeError, FileNotFoundError) as err:
        raise ValueError(str(err)) from None
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0


def add_serve_command(sub: argparse._SubParsersAction) -> None:
    """Register `serve [--model PATH] [--models-dir DIR] [--host 127.0.0.1] [--port 7861] [--auth user:pass] ...`."""
    serve = sub.add_parser("serve", help="serve the REST API (diffusion with --model PATH, else motion previews)")
    _add_serve_arguments(serve)
    serve.set_defaults(handler=cmd_serve)


def main_serve(argv: Sequence[str] | None = None) -> int:
    """`python -m deforum.integrations.api`: the serve command on its own; returns the exit status."""
    parser = argparse.ArgumentParser(prog="deforum serve", description="Serve Deforum's REST API.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    _add_serve_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return cmd_serve(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
