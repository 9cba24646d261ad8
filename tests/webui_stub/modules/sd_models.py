"""Stub of modules.sd_models: a checkpoint list, name matching and a record of model (re)loads."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

CHECKPOINTS = {f"{name} [{short}]": SimpleNamespace(title=f"{name} [{short}]", name=name)
               for name, short in (("tiny-sd15.safetensors", "abc123"), ("other.safetensors", "def456"))}
LOADED: list[str] = ["tiny-sd15.safetensors [abc123]"]


def checkpoint_tiles(use_short: bool = False) -> list[str]:
    """The titles of the listed checkpoints."""
    return list(CHECKPOINTS)


def get_closet_checkpoint_match(search: str) -> Any:
    """The checkpoint whose title contains search (shortest first), or None."""
    found = sorted((c for t, c in CHECKPOINTS.items() if search and search in t), key=lambda c: len(c.title))
    return found[0] if found else None


def reload_model_weights(sd_model: Any = None, info: Any = None) -> None:
    """Load info's checkpoint (None: the one the options name)."""
    from modules import shared

    title = info.title if info is not None else get_closet_checkpoint_match(shared.opts.sd_model_checkpoint).title
    if LOADED[-1] != title:
        LOADED.append(title)
