"""`python -m deforum`: the command line, one module per command (the only place in the package that prints)."""

from deforum.cli.main import EXIT_FAILED, EXIT_INVALID, EXIT_OK, build_parser, main

__all__ = ["EXIT_FAILED", "EXIT_INVALID", "EXIT_OK", "build_parser", "main"]
