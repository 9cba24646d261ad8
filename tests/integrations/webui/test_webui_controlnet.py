"""ControlNet in the WebUI adapter: the extension's external code API gets Deforum's units; absent → clear error."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from deforum.config.settings_io import load
from deforum.integrations.features.controlnet import ControlNetError
from deforum.integrations.webui.controlnet import check_controlnet
from deforum.integrations.webui.service import WebUIModelService
from deforum.models.generation import ControlNetUnit, GenerationRequest
from tests.conftest import DATA
from tests.webui_stub.fixture import webui_host  # noqa: F401  (the `webui` fixture)

UNIT = ControlNetUnit(number=1, module="canny", model="control_canny [abc]", image=np.zeros((8, 8, 3), np.uint8),
                      mask=None, weight=0.7, guidance_start=0.0, guidance_end=0.8,
                      resize_mode="Inner Fit (Scale to Fit)", control_mode="Balanced", low_vram=False,
                      pixel_perfect=True, processor_res=64, threshold_a=100, threshold_b=200)
REQUEST = GenerationRequest(frame=1, prompt="a", negative_prompt="", seed=1, width=64, height=64, steps=4,
                            cfg_scale=7, sampler="Euler a", controlnet=(UNIT,))


class FakeExternalCode:
    """Records what the adapter hands the ControlNet extension."""

    def __init__(self) -> None:
        self.calls = []

    def ControlNetUnit(self, **kwargs):  # noqa: N802  (the extension's class name)
        return SimpleNamespace(**kwargs)

    def update_cn_script_in_processing(self, p, units, **kwargs):
        self.calls.append((p, units, kwargs))


def test_units_reach_the_extension_with_the_detected_map_folder(webui) -> None:
    external = FakeExternalCode()
    seen = {}
    real = webui.processing.process_images

    def process(p):
        seen["option"] = webui.shared.opts.data.get("control_net_detectedmap_dir")
        return real(p)

    webui.processing.process_images = process
    WebUIModelService(webui.root / "out", external_code=external).generate(REQUEST)
    p, units, kwargs = external.calls[0]
    assert kwargs == {"is_img2img": False, "is_ui": False}
    assert units[0].model == "control_canny [abc]" and units[0].weight == pytest.approx(0.7)
    assert p.script_args_value == [None, None, None]
    assert seen["option"].endswith("controlnet_detected_map")
    assert "control_net_detectedmap_dir" not in webui.shared.opts.data


def test_requests_without_units_do_not_touch_the_extension(webui) -> None:
    external = FakeExternalCode()
    WebUIModelService(webui.root / "out", external_code=external).generate(dataclasses.replace(REQUEST,
                                                                                                controlnet=()))
    assert external.calls == []


def test_enabled_unit_without_the_extension_is_a_clear_error(webui) -> None:
    settings = load(DATA / "compat/original/default_settings.txt").replace(cn_2_enabled=True)
    with pytest.raises(ControlNetError, match="cn_2_enabled.*sd-webui-controlnet"):
        check_controlnet(settings)
    assert check_controlnet(settings.replace(motion_preview_mode=True)) is None
