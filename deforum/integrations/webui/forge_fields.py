"""Forge's per-frame processing fields, built from a request: a pure function, kept apart from the service."""

from __future__ import annotations

import dataclasses
import importlib.util
from typing import Any

from deforum.models.generation import GenerationRequest
from deforum.models.key_use import Host, host_notices, notice_lines
from deforum.models.settings import Settings

FORGE_FIELDS = ("distilled_cfg_scale",)


def has_field(processing_class: type, name: str) -> bool:
    """Whether the WebUI's processing class takes `name` (Forge's dataclass fields; A1111 v1.10 lacks them)."""
    if dataclasses.is_dataclass(processing_class):
        return name in {f.name for f in dataclasses.fields(processing_class)}
    return hasattr(processing_class, name)


def forge_fields(request: GenerationRequest, processing_class: type) -> dict[str, Any]:
    """The fields of `request` only Forge's processing takes: distilled CFG (Flux guidance) per frame."""
    if not has_field(processing_class, "distilled_cfg_scale"):
        return {}
    return {"distilled_cfg_scale": float(request.distilled_cfg_scale)}


def host_kind() -> Host:
    """'forge' inside Forge (its `modules_forge` package is present), else 'a1111'."""
    return "forge" if importlib.util.find_spec("modules_forge") is not None else "a1111"


def host_notice_lines(settings: Settings, kind: Host) -> list[str]:
    """The notices of a run for features switched on that this WebUI cannot honour (FreeU, Kohya HR fix,
    distilled CFG in A1111); none when they are off or at their defaults."""
    return notice_lines(host_notices(settings.to_flat(), kind))
