"""Deforum: keyframed camera motion plus diffusion, as a WebUI extension and a standalone renderer."""

__version__ = "0.1.0"
