"""Our Depth-Anything-V2 network: equal to transformers' on the same random weights, both file layouts, any size."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from deforum.depth import load_depth_estimator
from deforum.depth.dav2_net import DepthAnythingV2
from deforum.depth.dav2_weights import (
    DAv2WeightsError,
    hf_config_dict,
    hf_to_official,
    load_hf_folder,
    load_official,
    official_config,
    official_to_hf,
    save_hf_folder,
)
from deforum.depth.locate import find_weights
from deforum.depth.testing import TINY_DAV2, TINY_OFFICIAL, randomize, save_tiny_official, tiny_dav2

SIZES = [(518, 518), (280, 406), (196, 602), (364, 252), (42, 98)]
PUBLISHED_MILLIONS = {"Small": 24.8, "Base": 97.5, "Large": 335.3}


def _transformers_dav2():
    """transformers' DepthAnythingForDepthEstimation and config classes, or a skip on transformers < 4.45."""
    transformers = pytest.importorskip("transformers")
    if not hasattr(transformers, "DepthAnythingForDepthEstimation"):
        pytest.skip(f"transformers {transformers.__version__} has no Depth-Anything (the equality test needs >= 4.45)")
    return transformers.DepthAnythingForDepthEstimation, transformers.DepthAnythingConfig


def _random_transformers_model(num_heads: int, seed: int):
    """A random transformers Depth-Anything at the tiny sizes with ``num_heads`` heads (our std-0.2 draw)."""
    model_class, config_class = _transformers_dav2()
    options = hf_config_dict(TINY_DAV2)
    options["backbone_config"]["num_attention_heads"] = num_heads
    torch.manual_seed(seed)
    return randomize(model_class(config_class(**options))).eval()


def _pixels(height: int, width: int, seed: int) -> torch.Tensor:
    """A batch of two normalised-looking random inputs."""
    return torch.randn(2, 3, height, width, generator=torch.Generator().manual_seed(seed))


def _assert_same_depth(ours: DepthAnythingV2, reference: torch.nn.Module) -> None:
    """Our depth equals transformers' predicted_depth at every test size (float32 tolerance)."""
    for seed, (height, width) in enumerate(SIZES):
        pixels = _pixels(height, width, seed)
        with torch.inference_mode():
            expected = reference(pixel_values=pixels).predicted_depth
            got = ours(pixels)
        assert got.shape == (2, height, width) and float(expected.std()) > 1e-2
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_hf_folder_saved_by_transformers_gives_its_depth(tmp_path: Path) -> None:
    reference = _random_transformers_model(num_heads=2, seed=1)
    reference.save_pretrained(str(tmp_path / "hf"), safe_serialization=True)
    _assert_same_depth(load_hf_folder(tmp_path / "hf"), reference)


def test_official_file_gives_transformers_depth(tmp_path: Path) -> None:
    reference = _random_transformers_model(num_heads=1, seed=2)
    official = hf_to_official(reference.state_dict())
    assert {"pretrained.blocks.0.attn.qkv.weight", "depth_head.scratch.refinenet4.out_conv.weight"} <= official.keys()
    torch.save({**official, "pretrained.mask_token": torch.zeros(1, 16)}, tmp_path / "depth_anything_v2_vits.pth")
    _assert_same_depth(load_official(tmp_path / "depth_anything_v2_vits.pth"), reference)


def test_our_hf_folder_loads_in_transformers(tmp_path: Path) -> None:
    model_class, _ = _transformers_dav2()
    ours = tiny_dav2(seed=3)
    reference = model_class.from_pretrained(str(save_hf_folder(ours, tmp_path / "ours")), local_files_only=True)
    _assert_same_depth(ours, reference.eval())


def test_layouts_round_trip_without_transformers(tmp_path: Path) -> None:
    model = tiny_dav2(seed=4)
    state = model.state_dict()
    back = hf_to_official(official_to_hf(state))
    assert back.keys() == state.keys()
    for key, tensor in state.items():
        torch.testing.assert_close(back[key], tensor, rtol=0, atol=0)
    pixels = _pixels(70, 126, 0)
    with torch.inference_mode():
        expected = model(pixels)
        from_folder = load_hf_folder(save_hf_folder(model, tmp_path / "hf"))(pixels)
    torch.testing.assert_close(from_folder, expected, rtol=0, atol=0)
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    assert config["model_type"] == "depth_anything" and config["backbone_config"]["out_indices"] == [1, 2, 3, 4]


def test_official_file_infers_heads_and_tapped_blocks(tmp_path: Path) -> None:
    path = save_tiny_official(tmp_path / "depth_anything_v2_vits.pth", seed=5)
    loaded = load_official(path)
    assert loaded.config == TINY_OFFICIAL
    pixels = _pixels(56, 84, 1)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(pixels), tiny_dav2(5, TINY_OFFICIAL)(pixels), rtol=0, atol=0)


def test_new_transformers_attention_names_are_read() -> None:
    names = {"attention.attention.query.": "attention.q_proj.", "attention.attention.key.": "attention.k_proj.",
             "attention.attention.value.": "attention.v_proj.", "attention.output.dense.": "attention.o_proj."}
    hf = official_to_hf(tiny_dav2(seed=6).state_dict())
    renamed = {}
    for key, tensor in hf.items():
        for old, new in names.items():
            key = key.replace(old, new)
        renamed[key] = tensor
    assert any("q_proj" in key for key in renamed)
    for key, tensor in hf_to_official(renamed).items():
        torch.testing.assert_close(tensor, hf_to_official(hf)[key], rtol=0, atol=0)


@pytest.mark.parametrize("size", ["Small", "Base", "Large"])
def test_official_sizes_have_the_published_parameter_counts(size: str) -> None:
    with torch.device("meta"):
        model = DepthAnythingV2(official_config(size))
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 1) == PUBLISHED_MILLIONS[size]


def test_bad_weights_get_clear_errors(tmp_path: Path) -> None:
    state = official_to_hf(tiny_dav2().state_dict())
    with pytest.raises(DAv2WeightsError, match="unexpected Depth-Anything-V2 weight 'decoder.x'"):
        hf_to_official({**state, "decoder.x": torch.zeros(1)})
    del state["backbone.encoder.layer.0.attention.attention.value.weight"]
    with pytest.raises(DAv2WeightsError, match="layer.0|blocks.0.*value"):
        hf_to_official(state)
    (tmp_path / "broken.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(DAv2WeightsError, match="broken.pth: could not be read"):
        load_official(tmp_path / "broken.pth")
    folder = save_hf_folder(tiny_dav2(), tmp_path / "swiglu")
    config = json.loads((folder / "config.json").read_text())
    config["backbone_config"]["use_swiglu_ffn"] = True
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(DAv2WeightsError, match="unsupported Depth-Anything-V2 config.*SwiGLU"):
        load_hf_folder(folder)


@pytest.mark.parametrize("size", ["Small", "Base", "Large"])
def test_official_files_are_found_and_run(size: str, tmp_path: Path, image: np.ndarray) -> None:
    save_tiny_official(tmp_path / "Deforum" / f"depth_anything_v2_vit{size[0].lower()}.pth")
    algorithm = f"Depth-Anything-V2-{size}"
    with load_depth_estimator(algorithm, models_dir=str(tmp_path), device="cpu") as estimator:
        spec = estimator.network.spec
        depth = estimator.predict(image)
    assert spec.name == algorithm and find_weights(spec, tmp_path).kind == "original"
    assert depth.shape == image.shape[:2] and np.isfinite(depth).all() and depth.std() > 0


def test_depth_anything_runs_without_transformers_depth_anything(models_dir: Path, image: np.ndarray,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "transformers", types.ModuleType("transformers"))  # nothing in it at all
    with load_depth_estimator("Depth-Anything-V2-Small", models_dir=str(models_dir), device="cpu") as estimator:
        depth = estimator.predict(image)
    assert depth.shape == image.shape[:2] and depth.std() > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="fp16 depth runs on CUDA only")
def test_fp16_on_cuda_matches_float32(tmp_path: Path, image: np.ndarray) -> None:
    save_tiny_official(tmp_path / "Deforum" / "depth_anything_v2_vits.pth", seed=7)
    with load_depth_estimator("Depth-Anything-V2-Small", models_dir=str(tmp_path), device="cuda") as half:
        assert half.network.dtype == torch.float16
        got = half.predict(image)
    with load_depth_estimator("Depth-Anything-V2-Small", models_dir=str(tmp_path), device="cpu") as full:
        expected = full.predict(image)
    assert np.abs(got - expected).max() <= 2e-2 * np.abs(expected).max()


def test_official_file_is_read_past_a1111s_torch_load_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A1111 swaps torch.load for a checker that refuses files saved by newer torch (it returns None for them)."""
    path = save_tiny_official(tmp_path / "depth_anything_v2_vits.pth", seed=8)
    monkeypatch.setattr(torch, "load", lambda *args, **kwargs: None)
    assert load_official(path).config == TINY_OFFICIAL


def test_a_hub_style_config_with_defaults_left_out_loads(tmp_path: Path) -> None:
    """The hub's config.json names only what differs from transformers' defaults (no layer count, no MLP ratio)."""
    model = tiny_dav2(seed=9)
    folder = save_hf_folder(model, tmp_path / "hub")
    hub = {"architectures": ["DepthAnythingForDepthEstimation"], "model_type": "depth_anything",
           "backbone_config": {"model_type": "dinov2", "hidden_size": 16, "num_attention_heads": 2,
                               "out_features": ["stage1", "stage2", "stage3", "stage4"]},
           "fusion_hidden_size": 8, "head_hidden_size": 8, "neck_hidden_sizes": [8, 8, 16, 16]}
    (folder / "config.json").write_text(json.dumps(hub))
    loaded = load_hf_folder(folder)
    assert loaded.config == TINY_DAV2
    pixels = _pixels(42, 70, 2)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(pixels), model(pixels), rtol=0, atol=0)
