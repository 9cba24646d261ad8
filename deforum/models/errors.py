"""The one error root: every error Deforum raises on purpose names the setting (or file) and the fix."""

from __future__ import annotations

__all__ = ["DeforumError"]


class DeforumError(Exception):
    """Base of Deforum's own errors (each also keeps its builtin kind: ValueError, FileNotFoundError, OSError…)."""
