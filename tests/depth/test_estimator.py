"""The transformers depth estimators on tiny random-weight models: shapes, dtype, determinism, conventions, cache."""

from __future__ import annotations

import inspect
import logging
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from deforum.animation.depth_z import depth_to_z, normalize_depth
from deforum.core.services import DepthEstimator
from deforum.depth import DepthModelCache, TransformersDepthEstimator, load_depth_estimator
from deforum.depth.algorithms import spec_for
from deforum.depth.convert_midas import MidasConversionError, convert_state_dict, load_original_midas
from deforum.depth.network import dpt_depth, network_input_size, prepare_image
from deforum.depth.testing import save_tiny_model, tiny_model

OLD_NAMES = ("AdaBins", "Zoe", "Leres", "Midas+AdaBins (old)", "Zoe+AdaBins (old)")


@pytest.fixture(scope="module")
def da(models_dir: Path) -> TransformersDepthEstimator:
    """The tiny Depth-Anything-V2-Small estimator on the CPU."""
    with load_depth_estimator("Depth-Anything-V2-Small", models_dir=str(models_dir), device="cpu") as estimator:
        yield estimator


@pytest.fixture(scope="module")
def midas(models_dir: Path) -> TransformersDepthEstimator:
    """The tiny MiDaS (DPT) estimator on the CPU."""
    with load_depth_estimator("Midas-3-Hybrid", models_dir=str(models_dir), device="cpu") as estimator:
        yield estimator


@pytest.mark.parametrize("which", ["da", "midas"])
def test_predict_shape_dtype_determinism(which: str, image: np.ndarray, request: pytest.FixtureRequest) -> None:
    estimator = request.getfixturevalue(which)
    assert isinstance(estimator, DepthEstimator)
    first, second = estimator.predict(image), estimator.predict(image)
    assert first.shape == image.shape[:2] and first.dtype == np.float32
    assert np.isfinite(first).all() and first.min() != first.max()
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("which", ["da", "midas"])
def test_normalised_z_range(which: str, image: np.ndarray, request: pytest.FixtureRequest) -> None:
    estimator = request.getfixturevalue(which)
    depth = estimator.predict(image)
    normalized = normalize_depth(depth)
    assert normalized.min() >= 0.0 and normalized.max() == pytest.approx(1.0)
    z = depth_to_z(depth, estimator.algorithm, depth.shape)
    assert z.min() >= 1.0 - 1e-6 and z.max() <= 2.0 + 1e-6 and z.max() - z.min() > 0.5


def test_predict_batch_keeps_order_and_sizes(da: TransformersDepthEstimator, image: np.ndarray) -> None:
    small = image[:20, :33]
    batch = da.predict_batch([image, small, image[::-1]])
    assert [d.shape for d in batch] == [image.shape[:2], small.shape[:2], image.shape[:2]]
    np.testing.assert_allclose(batch[0], da.predict(image), atol=1e-4)
    np.testing.assert_allclose(batch[1], da.predict(small), atol=1e-4)
    assert da.predict_batch([]) == []


def test_conventions_on_one_network(da: TransformersDepthEstimator, image: np.ndarray) -> None:
    """Depth-Anything names return negated inverse depth; a MiDaS name on the same network returns it as is."""
    as_midas = TransformersDepthEstimator(da.network, "Midas-3-Hybrid", owns_network=False)
    np.testing.assert_array_equal(da.predict(image), -as_midas.predict(image))
    assert as_midas.larger_is_nearer and not da.larger_is_nearer
    as_midas.close()
    assert da.network is not None


def test_rgba_accepted_and_bad_input_rejected(da: TransformersDepthEstimator, image: np.ndarray) -> None:
    rgba = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    np.testing.assert_array_equal(da.predict(rgba), da.predict(image))
    for bad in (image.astype(np.float32), image[..., 0], np.zeros((0, 4, 3), np.uint8)):
        with pytest.raises(ValueError, match="uint8 RGB"):
            da.predict(bad)


def test_input_sizes_follow_each_model() -> None:
    da, midas = spec_for("Depth-Anything-V2-Small"), spec_for("Midas-3-Hybrid")
    assert network_input_size(512, 512, da) == (518, 518)
    assert network_input_size(576, 1024, da) == (518, 924)
    assert network_input_size(512, 512, midas) == (384, 384)
    assert network_input_size(1080, 1920, midas) == (384, 672)
    assert network_input_size(1080, 1920, midas, square=True) == (384, 384)


def test_midas_sees_bgr_like_the_original(image: np.ndarray) -> None:
    da, midas = spec_for("Depth-Anything-V2-Small"), spec_for("Midas-3-Hybrid")
    red_only = np.zeros_like(image)
    red_only[..., 0] = 255
    assert prepare_image(red_only, (32, 32), midas)[2].min() == pytest.approx(1.0)
    assert prepare_image(red_only, (28, 28), da)[0].min() == pytest.approx((1 - 0.485) / 0.229)


@pytest.mark.parametrize("name", OLD_NAMES)
def test_old_algorithms_load_with_a_notice(name: str, models_dir: Path, image: np.ndarray,
                                           caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), load_depth_estimator(name, models_dir=str(models_dir)) as estimator:
        depth = estimator.predict(image)
    assert "no longer bundled" in caplog.text and name in caplog.text
    assert depth.shape == image.shape[:2] and np.isfinite(depth).all()


def test_close_and_half_on_cpu(models_dir: Path, image: np.ndarray, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        estimator = load_depth_estimator("Depth-Anything-V2-Small", models_dir=str(models_dir), half=True)
    assert estimator.network.dtype == torch.float32 and "float32" in caplog.text
    network = estimator.network
    with estimator:
        estimator.predict(image)
    assert estimator.network is None and network.model is None
    with pytest.raises(RuntimeError, match="closed"):
        estimator.predict(image)


def test_cache_reuses_switches_and_frees(models_dir: Path, image: np.ndarray) -> None:
    cache = DepthModelCache()
    first = cache.estimator("Depth-Anything-V2-Small", models_dir=str(models_dir))
    again = cache.estimator("Zoe", models_dir=str(models_dir))
    assert again.network is first.network and cache.loaded_model == "Depth-Anything-V2-Small"
    again.close()
    assert first.network.model is not None
    cache.end_run()
    assert cache.loaded_model is None and first.network.model is None
    kept = cache.estimator("Midas-3-Hybrid", models_dir=str(models_dir), keep_in_vram=True)
    cache.end_run()
    assert cache.loaded_model == "Midas-3-Hybrid"
    assert cache.estimator("Midas-3-Hybrid", models_dir=str(models_dir)).network is kept.network
    cache.estimator("Depth-Anything-V2-Small", models_dir=str(models_dir))
    assert kept.network.model is None
    cache.release()
    assert cache.loaded_model is None


_INVERSE = (
    (r"dpt\.embeddings\.cls_token", "pretrained.model.cls_token"),
    (r"dpt\.embeddings\.position_embeddings", "pretrained.model.pos_embed"),
    (r"dpt\.embeddings\.patch_embeddings\.projection\.", "pretrained.model.patch_embed.proj."),
    (r"dpt\.layernorm\.", "pretrained.model.norm."),
    (r"dpt\.encoder\.layer\.(\d+)\.layernorm_before\.", r"pretrained.model.blocks.\1.norm1."),
    (r"dpt\.encoder\.layer\.(\d+)\.layernorm_after\.", r"pretrained.model.blocks.\1.norm2."),
    (r"dpt\.encoder\.layer\.(\d+)\.attention\.output\.dense\.", r"pretrained.model.blocks.\1.attn.proj."),
    (r"dpt\.encoder\.layer\.(\d+)\.intermediate\.dense\.", r"pretrained.model.blocks.\1.mlp.fc1."),
    (r"dpt\.encoder\.layer\.(\d+)\.output\.dense\.", r"pretrained.model.blocks.\1.mlp.fc2."),
    (r"neck\.convs\.(\d)\.", lambda m: f"scratch.layer{int(m[1]) + 1}_rn."),
    (r"neck\.reassemble_stage\.readout_projects\.(\d)\.0\.",
     lambda m: f"pretrained.act_postprocess{int(m[1]) + 1}.0.project.0."),
    (r"neck\.reassemble_stage\.layers\.(\d)\.projection\.", lambda m: f"pretrained.act_postprocess{int(m[1]) + 1}.3."),
    (r"neck\.reassemble_stage\.layers\.(\d)\.resize\.", lambda m: f"pretrained.act_postprocess{int(m[1]) + 1}.4."),
    (r"neck\.fusion_stage\.layers\.(\d)\.projection\.", lambda m: f"scratch.refinenet{4 - int(m[1])}.out_conv."),
    (r"neck\.fusion_stage\.layers\.(\d)\.residual_layer(\d)\.convolution(\d)\.",
     lambda m: f"scratch.refinenet{4 - int(m[1])}.resConfUnit{m[2]}.conv{m[3]}."),
    (r"head\.head\.(\d)\.", r"scratch.output_conv.\1."),
)


def _as_midas_checkpoint(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A transformers DPT state dict under the MiDaS names (q, k, v fused into qkv), as the original stored it."""
    midas: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        qkv = re.fullmatch(r"dpt\.encoder\.layer\.(\d+)\.attention\.attention\.query\.(weight|bias)", key)
        if qkv:
            parts = [state[key.replace("query", name)] for name in ("query", "key", "value")]
            midas[f"pretrained.model.blocks.{qkv[1]}.attn.qkv.{qkv[2]}"] = torch.cat(parts)
        elif ".attention.attention." not in key:
            new = next(re.sub(p, r, key) for p, r in _INVERSE if re.match(p, key))
            midas[new] = tensor
    return midas


def test_original_midas_checkpoint_converts(tmp_path: Path) -> None:
    model = tiny_model("dpt", seed=3)
    original = _as_midas_checkpoint(model.state_dict())
    original["pretrained.model.head.weight"] = torch.zeros(2, 16)
    torch.save({"model": original, "optimizer": {}}, tmp_path / "midas.pt")
    converted = load_original_midas(tmp_path / "midas.pt", config=model.config.to_dict())
    for key, tensor in model.state_dict().items():
        torch.testing.assert_close(converted.state_dict()[key], tensor, rtol=0, atol=0)
    with pytest.raises(MidasConversionError, match="unexpected MiDaS keys"):
        convert_state_dict({"something.else": torch.zeros(1)})
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(MidasConversionError, match="could not be read"):
        load_original_midas(tmp_path / "broken.pt")


@pytest.mark.parametrize("model_type", ["dpt", "dpt_hybrid"])
def test_dpt_stagewise_forward_matches_transformers_on_square_input(model_type: str) -> None:
    model = tiny_model(model_type, seed=1)
    pixels = torch.randn(1, 3, 384, 384, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        torch.testing.assert_close(dpt_depth(model, pixels), model(pixel_values=pixels).predicted_depth)


def test_dpt_hybrid_folder_runs_non_square_frames(tmp_path: Path, image: np.ndarray) -> None:
    save_tiny_model(tmp_path / "Deforum" / "dpt-hybrid-midas", "dpt_hybrid")
    with load_depth_estimator("Midas-3-Hybrid", models_dir=str(tmp_path)) as estimator:
        assert estimator.network.square_input
        depth = estimator.predict(image)
    assert depth.shape == image.shape[:2] and np.isfinite(depth).all()


def test_non_square_dpt_forward_equals_transformers_neck_given_the_grid() -> None:
    model = tiny_model("dpt", seed=2)
    if "patch_height" not in inspect.signature(model.neck.forward).parameters:
        pytest.skip("this transformers' DPT neck assumes a square grid (the reason dpt_depth exists)")
    pixels = torch.randn(1, 3, 256, 384, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        outputs = model.dpt(pixels, output_hidden_states=True, return_dict=True)
        hidden = [h for i, h in enumerate(outputs.hidden_states[1:]) if i in model.config.backbone_out_indices]
        expected = model.head(model.neck(hidden, 256 // 16, 384 // 16))  # current transformers take the grid
        torch.testing.assert_close(dpt_depth(model, pixels), expected)
