"""The composition root with downloads: a download comes first, the missing-weights policy applies after it."""

from __future__ import annotations

import logging

import pytest

from deforum.core.run import run_render
from deforum.integrations.services import Environment, services_for
from tests.config.test_fetch import DEPTH_REPO, hosts  # noqa: F401
from tests.core.test_render import small_settings

MIDAS_PATH = "/intel-isl/DPT/releases/download/1_0/dpt_large-midas-2f21e586.pt"


def test_the_default_3d_preview_downloads_its_depth_model_and_renders(hosts, tmp_path):  # noqa: F811
    from deforum.depth.testing import save_tiny_model

    if not hasattr(pytest.importorskip("transformers"), "DepthAnythingConfig"):
        pytest.skip("this transformers has no Depth-Anything")
    hosts.add_repo(DEPTH_REPO, save_tiny_model(tmp_path / "tiny", "depth_anything"))
    settings = small_settings(animation_mode="3D", depth_algorithm="Depth-Anything-V2-Small", max_frames=3,
                              motion_preview_mode=True, skip_video_creation=True)
    services = services_for(settings, Environment(device="cpu"))
    assert services.depth is not None
    result = run_render(settings, services, tmp_path / "out", timestring="20240101000000")
    assert result.frames_written == 3
    assert any(path.endswith("model.safetensors") for _, path, _ in hosts.state.requests)


def test_a_failed_download_falls_back_in_a_preview_and_stops_a_render(hosts, caplog):  # noqa: F811
    settings = small_settings(animation_mode="3D", depth_algorithm="Midas-3-Hybrid", motion_preview_mode=True)
    with caplog.at_level(logging.WARNING):
        assert services_for(settings, Environment(device="cpu")).depth is None
    assert "flat depth" in caplog.text and hosts.state.gets(MIDAS_PATH) == [""]
    with pytest.raises(ValueError, match="Setting 'depth_algorithm'") as caught:
        services_for(settings.replace(motion_preview_mode=False), Environment(model=lambda s: None))
    assert "HTTP 404" in str(caught.value)
