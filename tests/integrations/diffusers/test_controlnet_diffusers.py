"""Standalone ControlNet: a tiny random diffusers ControlNet on the tiny SD pipeline at 64×64, control images."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from deforum.integrations.diffusers.control_images import CROP, FILL, JUST_RESIZE, canny, control_image, fit
from deforum.integrations.diffusers.service import DiffusersModelService
from deforum.integrations.diffusers.testing import tiny_pipeline, write_tiny_tokenizer
from deforum.integrations.features.controlnet import ControlNetError
from deforum.models.generation import ControlNetUnit, GenerationRequest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning")

SQUARE = np.zeros((64, 64, 3), np.uint8)
SQUARE[16:48, 16:48] = 255


def tiny_controlnet(unet: object, seed: int = 3) -> object:
    """A ControlNet matching the tiny UNet, its zero convolutions randomised so that the control image matters."""
    import torch
    from diffusers import ControlNetModel

    torch.manual_seed(seed)
    model = ControlNetModel.from_unet(unet)
    for conv in (*model.controlnet_down_blocks, model.controlnet_mid_block, model.controlnet_cond_embedding.conv_out):
        torch.nn.init.normal_(conv.weight, std=0.5)
    return model.eval()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    import torch
    from safetensors.torch import save_file

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        pipe = tiny_pipeline(write_tiny_tokenizer(root / "tokenizer"))
        folder = root / "ControlNet"
        controlnet = tiny_controlnet(pipe.unet)
        controlnet.save_pretrained(folder / "tiny_canny")
        save_file(controlnet.state_dict(), str(folder / "tiny_single.safetensors"))
        save_file({"weight": torch.zeros(2)}, str(folder / "not_a_controlnet.safetensors"))
        yield DiffusersModelService.from_pipeline(pipe, controlnet_dir=folder)
    torch.set_num_threads(threads)


def unit(**changes: object) -> ControlNetUnit:
    base = ControlNetUnit(number=1, module="none", model="tiny_canny [0123abcd]", image=SQUARE)
    return dataclasses.replace(base, **changes)


def gen(service: DiffusersModelService, *units: ControlNetUnit, **changes: object) -> np.ndarray:
    request = GenerationRequest(frame=0, prompt="a cat", negative_prompt="red", seed=1, width=64, height=64, steps=4,
                                cfg_scale=7.0, sampler="Euler", controlnet=units)
    return service.generate(dataclasses.replace(request, **changes)).image


def differ(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_controlnet_changes_the_output(service: DiffusersModelService) -> None:
    plain = gen(service)
    controlled = gen(service, unit())
    assert differ(plain, controlled) > 1
    assert np.array_equal(controlled, gen(service, unit()))
    assert not np.array_equal(controlled, gen(service, unit(image=255 - SQUARE)))


def test_weight_zero_is_no_controlnet(service: DiffusersModelService) -> None:
    assert np.array_equal(gen(service, unit(weight=0.0)), gen(service))
    assert differ(gen(service, unit(weight=0.3)), gen(service, unit(weight=1.0))) > 0.5


def test_guidance_range_by_step_fraction(service: DiffusersModelService) -> None:
    assert np.array_equal(gen(service, unit(guidance_start=0.0, guidance_end=0.2)), gen(service))
    late = gen(service, unit(guidance_start=0.5))
    assert differ(late, gen(service)) > 0 and differ(late, gen(service, unit())) > 0


def test_img2img_with_controlnet(service: DiffusersModelService) -> None:
    init = gen(service, seed=11)
    plain = gen(service, init_image=init, denoising_strength=0.6)
    assert differ(plain, gen(service, unit(), init_image=init, denoising_strength=0.6)) > 0.5


def test_single_file_equals_the_folder(service: DiffusersModelService) -> None:
    assert np.array_equal(gen(service, unit(model="tiny_single")), gen(service, unit()))


@pytest.mark.parametrize("mode", ["My prompt is more important", "ControlNet is more important"])
def test_control_modes_differ_from_balanced(service: DiffusersModelService, mode: str) -> None:
    assert differ(gen(service, unit(control_mode=mode)), gen(service, unit())) > 0.2


def test_two_units_add_up(service: DiffusersModelService) -> None:
    both = gen(service, unit(), unit(number=2, module="invert", model="tiny_single"))
    assert differ(both, gen(service, unit())) > 0.2
    assert "ControlNet 1: \"Module: invert" in service.generate(GenerationRequest(
        frame=0, prompt="a", negative_prompt="", seed=1, width=64, height=64, steps=2, cfg_scale=7.0,
        sampler="Euler", controlnet=(unit(number=2, module="invert"),))).info


@pytest.mark.parametrize(("changes", "message"), [
    ({"model": "None"}, "unit 1 .*'cn_1_model'.*no model is selected"),
    ({"model": "missing_model"}, "unit 1 .*'missing_model' not found in .*ControlNet"),
    ({"model": "not_a_controlnet"}, "unit 1 .*not_a_controlnet.safetensors is not a ControlNet"),
    ({"module": "openpose_full"}, "unit 1: preprocessor 'openpose_full' .*'cn_1_module'"),
])
def test_unusable_units_are_clear_errors(service: DiffusersModelService, changes: dict, message: str) -> None:
    with pytest.raises(ControlNetError, match=message):
        gen(service, unit(**changes))


def test_without_a_controlnet_folder_the_error_says_where(service: DiffusersModelService) -> None:
    lonely = DiffusersModelService(service.parts)
    with pytest.raises(ControlNetError, match="unit 2 .*ControlNet models folder None"):
        gen(lonely, unit(number=2))


def test_fit_modes() -> None:
    wide = np.zeros((20, 40, 3), np.uint8)
    wide[:, :20] = 200
    assert fit(wide, 32, 32, JUST_RESIZE).shape == (32, 32, 3)
    cropped = fit(wide, 32, 32, CROP)
    assert cropped.shape == (32, 32, 3) and cropped[:, 0].mean() > 150 and cropped[:, -1].mean() < 50
    filled = fit(wide, 32, 32, FILL)
    assert filled.shape == (32, 32, 3) and filled[8:24, 0].mean() > 150 and filled[0, 16].mean() > 0


def test_canny_and_invert_preprocessors() -> None:
    edges = canny(SQUARE, 64, 50, 150)
    assert edges.shape == (64, 64, 3) and set(np.unique(edges)) <= {0, 255} and edges[14:18, 30].max() == 255
    assert edges[32, 32].max() == 0
    inverted = control_image(unit(module="invert", resize_mode="Just Resize"), 64, 64)
    assert np.array_equal(inverted, 255 - SQUARE)
    assert control_image(unit(module="canny", pixel_perfect=True), 32, 32).shape == (32, 32, 3)


def test_a_render_with_a_controlnet_unit(service: DiffusersModelService, tmp_path: Path) -> None:
    from PIL import Image

    from deforum.config.settings_io import load
    from deforum.core.engine import RenderServices
    from deforum.core.run import run_render
    from deforum.integrations.features.hooks import render_hooks
    from deforum.media.frames_io import read_image
    from tests.conftest import DATA

    Image.fromarray(SQUARE).save(tmp_path / "control.png")
    base = load(DATA / "compat/original/default_settings.txt").replace(
        W=64, H=64, max_frames=2, steps=4, seed=5, diffusion_cadence=1, animation_mode="2D", batch_name="b",
        skip_video_creation=True, sampler="Euler")
    controlled = base.replace(cn_1_enabled=True, cn_1_model="tiny_canny", cn_1_module="none",
                              cn_1_vid_path=str(tmp_path / "control.png"))
    frames = []
    for name, s in (("plain", base), ("cn", controlled)):
        result = run_render(s, RenderServices(model=service), tmp_path / name, timestring="20240101000000",
                            hooks=render_hooks(s))
        frames.append([read_image(result.outdir / f"20240101000000_{i:09}.png") for i in range(2)])
    assert (tmp_path / "cn" / "b" / "controlnet_1_inputframes" / "000000000.jpg").is_file()
    assert all(differ(a, b) > 1 for a, b in zip(*frames, strict=True))
