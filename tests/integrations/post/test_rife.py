"""RIFE v4.6: the IFNet matches the published state dict, loads it, and interpolates frame pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deforum.config.weights import ModelWeightsMissing
from deforum.integrations.post.rife import IFNet, RifeInterpolator, load_ifnet, load_rife
from deforum.integrations.post.rife.model import _gaussian_window_3d, _volumetric_ssim
from tests.integrations.post.test_postprocess_support import models, moving_square, save_rife_weights  # noqa: F401


def published_keys() -> list[str]:
    """The 120 keys of RIFE46.pkl / Practical-RIFE v4.6 flownet.pkl (all with a ``module.`` prefix)."""
    keys = []
    for block in range(4):
        head = f"module.block{block}"
        keys += [f"{head}.conv0.{i}.0.{p}" for i in (0, 1) for p in ("weight", "bias")]
        keys += [f"{head}.convblock.{i}.{p}" for i in range(8) for p in ("beta", "conv.weight", "conv.bias")]
        keys += [f"{head}.lastconv.0.{p}" for p in ("weight", "bias")]
    return keys


def test_state_dict_has_the_published_keys_and_shapes() -> None:
    state = IFNet().state_dict()
    assert sorted(f"module.{key}" for key in state) == sorted(published_keys())
    assert state["block0.conv0.0.0.weight"].shape == (96, 7, 3, 3)
    assert state["block1.conv0.0.0.weight"].shape == (64, 12, 3, 3)
    assert state["block3.conv0.1.0.weight"].shape == (64, 32, 3, 3)
    assert state["block2.convblock.7.beta"].shape == (1, 96, 1, 1)
    assert state["block0.lastconv.0.weight"].shape == (192, 24, 4, 4)
    assert state["block3.lastconv.0.bias"].shape == (24,)


def test_loads_a_module_prefixed_pickle(tmp_path: Path) -> None:
    state = save_rife_weights(tmp_path / "RIFE46.pkl", seed=3)
    net = load_ifnet(tmp_path / "RIFE46.pkl")
    for key, value in net.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_refuses_a_file_that_is_not_a_flownet(tmp_path: Path) -> None:
    torch.save({"module.something.weight": torch.zeros(3)}, tmp_path / "RIFE46.pkl")
    with pytest.raises(ValueError, match="not a RIFE v4.6 flownet"):
        load_ifnet(tmp_path / "RIFE46.pkl")


def test_random_weights_give_uint8_frames_of_the_input_size_in_order() -> None:
    torch.manual_seed(0)
    rife = RifeInterpolator(IFNet(), device="cpu", batch_size=2)
    a, b = moving_square(0)[:50, :60], moving_square(1)[:50, :60]
    out = list(rife.between(a, b, 3))
    assert [k for k, _ in out] == [1, 2, 3]
    assert all(frame.shape == (50, 60, 3) and frame.dtype == np.uint8 for _, frame in out)


def test_zero_flow_and_mask_is_the_midpoint_blend() -> None:
    net = IFNet()
    for block in (net.block0, net.block1, net.block2, net.block3):
        torch.nn.init.zeros_(block.lastconv[0].weight)
        torch.nn.init.zeros_(block.lastconv[0].bias)
    a, b = moving_square(0), moving_square(3)
    (_, mid), = RifeInterpolator(net, device="cpu").between(a, b, 1)
    expected = (a.astype(np.float64) + b) / 2
    assert np.abs(mid - expected).max() <= 1.0


def test_a_scene_cut_repeats_the_first_frame() -> None:
    black = np.zeros((64, 64, 3), np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    out = list(RifeInterpolator(IFNet(), device="cpu").between(black, noise, 2))
    assert [k for k, _ in out] == [1, 2]
    assert all(np.array_equal(frame, black) for _, frame in out)


def test_volumetric_ssim_is_one_for_equal_images_and_low_for_unrelated() -> None:
    window = _gaussian_window_3d(11, 1.5)
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    assert _volumetric_ssim(image, image, window) == pytest.approx(1.0, abs=1e-5)
    assert _volumetric_ssim(torch.zeros(1, 3, 32, 32), image, window) < 0.2
    assert float(window.sum()) == pytest.approx(1.0)


def test_missing_weights_name_the_file_and_the_folder(models: Path) -> None:  # noqa: F811
    with pytest.raises(ModelWeightsMissing) as caught:
        load_rife(models_dir=str(models), device="cpu")
    message = str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    assert "RIFE46.pkl" in message and str(models / "Deforum") in message and "Downloads are off" in message


def test_finds_the_original_file_name_in_the_models_folder(models: Path) -> None:  # noqa: F811
    save_rife_weights(models / "Deforum" / "RIFE46.pkl")
    rife = load_rife(models_dir=str(models), device="cpu")
    assert isinstance(rife, RifeInterpolator) and rife.inbetweens(10, 4) == 3


def test_interpolate_list_gives_n_minus_one_times_x_plus_one() -> None:
    frames = [moving_square(i) for i in range(3)]
    out = RifeInterpolator(IFNet(), device="cpu").interpolate(frames, 3)
    assert len(out) == 7
    assert np.array_equal(out[0], frames[0]) and np.array_equal(out[3], frames[1]) and np.array_equal(out[6], frames[2])
