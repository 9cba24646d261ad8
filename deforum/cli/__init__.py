"""`python -m deforum`: the command line, one module per command (the only place in the package that prints)."""

from deforum.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK
from deforum.cli.main import build_parser, main

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_INVALID", "EXIT_OK", "build_parser", "main"]
