"""The command line's exit statuses: 0 done, 1 failed, 2 invalid input, 130 interrupted (Ctrl-C)."""

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_INVALID", "EXIT_OK"]
