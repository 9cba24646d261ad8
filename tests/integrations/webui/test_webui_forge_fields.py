"""Forge's per-frame fields against the stub WebUI in A1111 and Forge shapes, and the A1111 notice per run."""

from __future__ import annotations

import dataclasses
import importlib.machinery
import logging
import sys
import types

import pytest

from deforum.integrations.webui import render
from deforum.integrations.webui.forge_fields import forge_fields, has_field, host_kind, host_notice_lines
from deforum.models.generation import GenerationRequest
from deforum.models.settings import Settings
from tests.webui_stub.fixture import webui_host  # noqa: F401  (the `webui` fixture)

REQUEST = GenerationRequest(frame=0, prompt="a", negative_prompt="", seed=1, width=64, height=64, steps=2,
                            cfg_scale=1.0, sampler="Euler a", distilled_cfg_scale=4.25)


@dataclasses.dataclass
class ForgeShape:
    """Forge's processing dataclass: distilled_cfg_scale is one of its fields."""

    prompt: str = ""
    distilled_cfg_scale: float = 3.5


@dataclasses.dataclass
class A1111Shape:
    """A1111 v1.10's processing dataclass: no distilled CFG."""

    prompt: str = ""


def small(**changes) -> Settings:
    values = {"W": 64, "H": 64, "max_frames": 3, "animation_mode": "2D", "diffusion_cadence": 1, "seed": 5}
    return Settings().replace(**{**values, **changes})


@pytest.fixture
def forge(webui, monkeypatch: pytest.MonkeyPatch):
    """The stub WebUI in Forge's shape: its processing takes distilled_cfg_scale, modules_forge is importable."""
    monkeypatch.setattr(webui.processing.StableDiffusionProcessing, "distilled_cfg_scale", 3.5, raising=False)
    package = types.ModuleType("modules_forge")
    package.__spec__ = importlib.machinery.ModuleSpec("modules_forge", None)
    monkeypatch.setitem(sys.modules, "modules_forge", package)
    return webui


def test_forge_fields_only_where_the_processing_class_has_them() -> None:
    assert has_field(ForgeShape, "distilled_cfg_scale") and not has_field(A1111Shape, "distilled_cfg_scale")
    assert forge_fields(REQUEST, ForgeShape) == {"distilled_cfg_scale": 4.25}
    assert forge_fields(REQUEST, A1111Shape) == {}


def test_a1111_processing_gets_no_distilled_cfg(webui) -> None:
    render.render_settings(small(distilled_cfg_scale_schedule="0: (2.5)"))
    assert all("distilled_cfg_scale" not in p.kwargs for p in webui.processing.CALLS)


def test_forge_processing_gets_the_scheduled_distilled_cfg_per_frame(forge) -> None:
    render.render_settings(small(distilled_cfg_scale_schedule="0: (2.5), 2: (4.5)"))
    assert [p.kwargs["distilled_cfg_scale"] for p in forge.processing.CALLS] == [2.5, 3.5, 4.5]


def test_host_kind_follows_modules_forge(webui, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "modules_forge", raising=False)
    assert host_kind() == "a1111"


def test_forge_is_recognised(forge) -> None:
    assert host_kind() == "forge"


@pytest.mark.parametrize(("changes", "named"), [
    ({"freeu_enabled": True}, ["freeu_enabled"]),
    ({"kohya_hrfix_enabled": True, "distilled_cfg_scale_schedule": "0: (2)"},
     ["kohya_hrfix_enabled", "distilled_cfg_scale_schedule"]),
])
def test_a1111_notices_each_forge_feature_once_per_run(webui, caplog: pytest.LogCaptureFixture,
                                                        changes: dict, named: list[str]) -> None:
    with caplog.at_level(logging.WARNING, logger="deforum"):
        render.render_settings(small(**changes))
    notices = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Not used by this run")]
    assert len(notices) == 1 and all(key in notices[0] for key in named)
    assert "A1111 has no FreeU, Kohya HR fix or distilled CFG" in notices[0]


def test_no_notice_when_the_features_are_off_or_in_forge(forge, caplog: pytest.LogCaptureFixture) -> None:
    assert host_notice_lines(small(), "a1111") == []
    with caplog.at_level(logging.WARNING, logger="deforum"):
        render.render_settings(small(freeu_enabled=True, kohya_hrfix_enabled=True))
    assert not [r for r in caplog.records if "Not used by this run" in r.getMessage()]
