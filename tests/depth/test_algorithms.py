"""Depth algorithm names, the mapping of the original's old names, and output conventions vs depth_z."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deforum.animation.depth_z import depth_to_z
from deforum.depth import resolve_algorithm
from deforum.depth.algorithms import (
    DEFAULT_ALGORITHM,
    MIDAS_ALGORITHM,
    SUPPORTED_MODELS,
    larger_is_nearer,
    mapping_notice,
    output_convention,
    spec_for,
    to_convention,
)
from deforum.models.spec_anim import DEPTH_ALGORITHMS

OLD_NAMES = {
    "AdaBins": DEFAULT_ALGORITHM, "Zoe": DEFAULT_ALGORITHM, "Leres": DEFAULT_ALGORITHM,
    "Midas+AdaBins (old)": MIDAS_ALGORITHM, "Zoe+AdaBins (old)": MIDAS_ALGORITHM,
    "Midas-3.1-BeitLarge": MIDAS_ALGORITHM,
}


def test_supported_names_resolve_to_themselves_case_insensitively() -> None:
    for name in SUPPORTED_MODELS:
        assert resolve_algorithm(name) == name
        assert resolve_algorithm(name.lower()) == name
    assert resolve_algorithm("Depth-Anything-V2-small") == "Depth-Anything-V2-Small"  # the Forge fork's spelling


@pytest.mark.parametrize(("name", "model"), sorted(OLD_NAMES.items()))
def test_old_names_map_to_the_nearest_model_with_a_notice(name: str, model: str) -> None:
    assert resolve_algorithm(name) == model
    notice = mapping_notice(name)
    assert notice is not None and model in notice and name in notice


def test_every_settings_choice_resolves() -> None:
    for name in DEPTH_ALGORITHMS:
        assert resolve_algorithm(name) in SUPPORTED_MODELS
        assert mapping_notice(name) is None or name not in SUPPORTED_MODELS


def test_unknown_name_is_a_value_error_listing_choices() -> None:
    with pytest.raises(ValueError, match="Depth-Anything-V2-Small"):
        resolve_algorithm("MegaDepth")


def test_specs_match_the_models_input_rules() -> None:
    assert spec_for("Depth-Anything-V2-Large").repo_ids == ("depth-anything/Depth-Anything-V2-Large-hf",)
    assert spec_for("Depth-Anything-V2-Base").input_size == 518
    midas = spec_for(MIDAS_ALGORITHM)
    assert (midas.input_size, midas.multiple_of, midas.resize_method) == (384, 32, "minimal")
    assert midas.original_files == ("dpt_large-midas-2f21e586.pt",)


def test_conventions() -> None:
    inverse = np.array([[0.0, 1.0], [2.0, 3.0]], dtype=np.float32)
    assert output_convention("Midas-3-Hybrid") == "inverse"
    assert output_convention("Depth-Anything-V2-Base") == "depth"
    assert output_convention("Zoe+AdaBins (old)") == "legacy"
    np.testing.assert_array_equal(to_convention(inverse, "Midas-3-Hybrid"), inverse)
    np.testing.assert_array_equal(to_convention(inverse, "Depth-Anything-V2-Small"), -inverse)
    np.testing.assert_allclose(to_convention(inverse, "Midas+AdaBins (old)", 0.2), (50 - inverse) / 19)
    np.testing.assert_array_equal(to_convention(inverse, "Midas+AdaBins (old)", 1.0), inverse)
    np.testing.assert_allclose(to_convention(inverse, "Zoe+AdaBins (old)", 1.0), (50 - inverse) / 19)
    assert larger_is_nearer("Midas-3-Hybrid") and not larger_is_nearer("Leres")
    assert larger_is_nearer("Midas+AdaBins (old)", 1.0) and not larger_is_nearer("Midas+AdaBins (old)", 0.2)


@pytest.mark.parametrize("name", DEPTH_ALGORITHMS)
def test_near_pixels_get_the_smaller_z_for_every_algorithm(name: str) -> None:
    """The estimator's convention and depth_z agree: what the model sees as near ends up nearer the camera."""
    inverse = np.linspace(0.5, 30.0, 64, dtype=np.float32).reshape(8, 8)  # the last pixel is the nearest
    z = depth_to_z(to_convention(inverse, name, 0.2), name, (8, 8))
    assert z.dtype == np.float32 and np.isfinite(z).all()
    assert z.flat[-1] < z.flat[0]


def test_flat_fallback_without_an_estimator() -> None:
    """No estimator means no depth map: depth_to_z gives flat z = 1 for every algorithm."""
    for name in DEPTH_ALGORITHMS:
        np.testing.assert_array_equal(depth_to_z(None, name, (4, 5)), np.ones((4, 5), np.float32))


def test_importing_depth_does_not_import_torch_or_transformers() -> None:
    code = ("import sys, deforum, deforum.depth, deforum.depth.run, deforum.cli.depth; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "[]"
