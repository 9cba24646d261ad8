"""The settings reference (docs/settings.md), written from the field specs: one table per settings group."""

from __future__ import annotations

import json
from typing import Any

from deforum.models.fields import FieldSpec
from deforum.models.settings import GROUPS
from deforum.models.spec_output import PROMPT_TEXT

HEADER = ("# Settings reference\n\nEvery setting of a Deforum settings file, generated from `deforum/models/spec_*.py` "
          "(the same declarations the WebUI tab shows as labels, help lines and hover hints).\n")
GROUP_TITLES = {"args": "Image, seed, init and mask (DeforumArgs)", "anim": "Animation (DeforumAnimArgs)",
                "parseq": "Parseq", "loop": "Guided images (LoopArgs)", "controlnet": "ControlNet units (1 to 5)",
                "output": "Output (DeforumOutputArgs)", "forge": "Forge fork settings"}


def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _default(spec: FieldSpec) -> str:
    """The default as it is written in a settings file."""
    return _cell(f"`{json.dumps(spec.default, ensure_ascii=False)}`")


def _row(spec: FieldSpec) -> str:
    """One table row: key, label, help line, allowed values, default."""
    return (f"| `{spec.key}` | {_cell(spec.label)} | {_cell(spec.info)} | {_cell(spec.describe_allowed())} "
            f"| {_default(spec)} |")


def _group_rows(group: str, specs: tuple[FieldSpec, ...]) -> list[str]:
    """The rows of a group (ControlNet: unit 1 stands for all five)."""
    if group == "controlnet":
        return [_row(s).replace("cn_1_", "cn_N_").replace("unit 1 ", "unit N ") for s in specs
                if s.key.startswith("cn_1_")]
    return [_row(s) for s in specs]


def reference_markdown() -> str:
    """The whole settings reference as Markdown."""
    parts = [HEADER, "## Prompts\n", "| key | label | help |", "|---|---|---|"]
    parts += [f"| `{key}` | {_cell(label)} | {_cell(info)} |" for key, (label, info) in PROMPT_TEXT.items()]
    for group, cls in GROUPS:
        parts += ["", f"## {GROUP_TITLES.get(group, group)}\n", "| key | label | help | allowed | default |",
                  "|---|---|---|---|---|", *_group_rows(group, cls.SPECS)]
    return "\n".join(parts) + "\n"
