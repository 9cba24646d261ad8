"""Stub of modules.scripts: the two script runners with an always-on ControlNet script."""

from __future__ import annotations

from types import SimpleNamespace


class _ControlNetScript:
    """What the ControlNet extension registers: an always-on script titled 'ControlNet'."""

    args_from, args_to = 0, 3

    def title(self) -> str:
        """The script's title."""
        return "ControlNet"


scripts_txt2img = SimpleNamespace(alwayson_scripts=[_ControlNetScript()], name="txt2img")
scripts_img2img = SimpleNamespace(alwayson_scripts=[_ControlNetScript()], name="img2img")
