"""WebUI preload hook: Deforum's command-line flags."""

from __future__ import annotations

import argparse


def preload(parser: argparse.ArgumentParser) -> None:
    """Add --deforum-api, --deforum-simple-api, --deforum-run-now and --deforum-terminate-after-run-now."""
    parser.add_argument("--deforum-api", action="store_true", help="enable the Deforum REST API")
    parser.add_argument("--deforum-simple-api", action="store_true", help="enable Deforum's simple REST API")
    parser.add_argument("--deforum-run-now", type=str, default=None,
                        help="comma-separated Deforum settings files to render as soon as the WebUI starts")
    parser.add_argument("--deforum-terminate-after-run-now", action="store_true",
                        help="exit the WebUI once the --deforum-run-now renders finish")
