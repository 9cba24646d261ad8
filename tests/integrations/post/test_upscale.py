"""Real-ESRGAN upscaling: architectures read from the weights, factors, tiling, missing-weights messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deforum.config.weights import ModelWeightsMissing
from deforum.integrations.post.upscale import (
    RealEsrganUpscaler,
    RRDBNet,
    SRVGGNetCompact,
    Upscaler,
    build_network,
    load_upscaler,
    parse_factor,
    read_state,
)
from tests.integrations.post.test_postprocess_support import models, moving_square, save_rrdb, save_srvgg  # noqa: F401


def test_real_sizes_have_the_published_keys() -> None:
    compact = SRVGGNetCompact().state_dict()
    assert compact["body.0.weight"].shape == (64, 3, 3, 3) and compact["body.1.weight"].shape == (64,)
    assert compact["body.34.weight"].shape == (48, 64, 3, 3) and len(compact) == 17 * 3 + 2
    rrdb = RRDBNet(num_block=1).state_dict()
    assert rrdb["body.0.rdb3.conv5.weight"].shape == (64, 64 + 4 * 32, 3, 3)
    assert {"conv_first.weight", "conv_body.weight", "conv_up1.weight", "conv_up2.weight", "conv_hr.weight",
            "conv_last.weight"} <= set(rrdb)


def test_compact_model_is_rebuilt_from_its_weights(tmp_path: Path) -> None:
    save_srvgg(tmp_path / "realesr-animevideov3.pth", num_feat=8, num_conv=3, upscale=4)
    net, scale = build_network(read_state(tmp_path / "realesr-animevideov3.pth"))
    assert isinstance(net, SRVGGNetCompact) and scale == 4 and len(net.body) == 2 * 3 + 3


def test_rrdb_model_is_rebuilt_from_its_weights(tmp_path: Path) -> None:
    save_rrdb(tmp_path / "RealESRGAN_x4plus.pth", num_feat=8, num_block=3, num_grow=4)
    net, scale = build_network(read_state(tmp_path / "RealESRGAN_x4plus.pth"))
    assert isinstance(net, RRDBNet) and scale == 4 and len(net.body) == 3


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_upscales_to_the_factor(models: Path, factor: int) -> None:  # noqa: F811
    save_srvgg(models / "Deforum" / "realesr-animevideov3.pth")
    upscaler = load_upscaler("realesr-animevideov3", models_dir=str(models), device="cpu")
    out = upscaler.upscale(moving_square(0, 16), factor)
    assert out.shape == (16 * factor, 16 * factor, 3) and out.dtype == np.uint8
    assert isinstance(upscaler, Upscaler)


def test_rrdb_upscales_from_the_webui_folder(models: Path) -> None:  # noqa: F811
    save_rrdb(models / "RealESRGAN" / "RealESRGAN_x4plus_anime_6B.pth")
    upscaler = load_upscaler("realesrgan-x4plus-anime", models_dir=str(models), device="cpu")
    assert upscaler.upscale(moving_square(0, 12), 4).shape == (48, 48, 3)


def test_tiles_match_the_whole_frame() -> None:
    torch.manual_seed(0)
    net = SRVGGNetCompact(8, 2, 4)
    image = moving_square(1, 40)
    whole = RealEsrganUpscaler(net, 4, device="cpu").upscale(image, 4)
    tiled = RealEsrganUpscaler(net, 4, device="cpu", tile=16).upscale(image, 4)
    assert np.abs(whole.astype(int) - tiled).max() <= 1


def test_compact_output_is_nearest_upsampling_plus_the_residual() -> None:
    net = SRVGGNetCompact(8, 1, 4)
    torch.nn.init.zeros_(net.body[-1].weight)
    torch.nn.init.zeros_(net.body[-1].bias)
    image = moving_square(2, 8)
    out = RealEsrganUpscaler(net, 4, device="cpu").upscale(image, 4)
    assert np.array_equal(out, image.repeat(4, 0).repeat(4, 1))


def test_factor_parsing() -> None:
    assert [parse_factor(v) for v in ("x2", "X3", 4)] == [2, 3, 4]
    with pytest.raises(ValueError, match="x2, x3 or x4"):
        parse_factor("x5")


def test_missing_weights_name_the_file(models: Path) -> None:  # noqa: F811
    with pytest.raises(ModelWeightsMissing) as caught:
        load_upscaler("realesrgan-x4plus", models_dir=str(models))
    assert "RealESRGAN_x4plus.pth" in str(caught.value) and str(models / "Deforum") in str(caught.value)


def test_unknown_weights_are_refused(tmp_path: Path) -> None:
    torch.save({"params": {"head.weight": torch.zeros(1)}}, tmp_path / "x.pth")
    with pytest.raises(ValueError, match="Unrecognised upscaler weights"):
        build_network(read_state(tmp_path / "x.pth"))
