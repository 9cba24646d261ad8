"""Render features.

Parseq, ControlNet units, CLIPSeg word masks, human matting, and the render hooks that apply them.
"""

__all__ = ["clipseg", "controlnet", "hooks", "matting", "parseq"]
