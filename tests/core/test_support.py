"""What a render needs: depth and RAFT models, unsupported features."""

from __future__ import annotations

from deforum.config.settings_io import load
from deforum.core.support import needs_depth, needs_raft
from tests.conftest import DATA

BASE = load(DATA / "compat/original/default_settings.txt").replace(animation_mode="2D", save_depth_maps=False)


def test_depth_is_needed_for_3d_warping_depth_maps_and_hybrid_depth_masks() -> None:
    assert not needs_depth(BASE)
    assert needs_depth(BASE.replace(animation_mode="3D"))
    assert not needs_depth(BASE.replace(animation_mode="3D", use_depth_warping=False))
    assert needs_depth(BASE.replace(save_depth_maps=True))
    assert needs_depth(BASE.replace(hybrid_composite="Normal", hybrid_comp_mask_type="Video Depth"))
    assert not needs_depth(BASE.replace(hybrid_composite="None", hybrid_comp_mask_type="Depth"))


def test_raft_is_needed_only_where_a_raft_flow_is_used() -> None:
    assert not needs_raft(BASE)
    assert not needs_raft(BASE.replace(optical_flow_cadence="RAFT", diffusion_cadence=1))
    assert needs_raft(BASE.replace(optical_flow_cadence="RAFT", diffusion_cadence=2))
    assert needs_raft(BASE.replace(optical_flow_redo_generation="RAFT"))
    assert needs_raft(BASE.replace(hybrid_motion="Optical Flow", hybrid_flow_method="RAFT"))
    assert not needs_raft(BASE.replace(hybrid_motion="Optical Flow", hybrid_flow_method="DIS Fine"))
