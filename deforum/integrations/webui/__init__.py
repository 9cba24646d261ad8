"""The WebUI integration: the only package that imports the WebUI's `modules` (always lazily, inside functions)."""

from deforum.integrations.webui.mount import mount

__all__ = ["mount"]
