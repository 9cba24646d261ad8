"""The WebUI Output tab's interpolation and upscaling tools (stub host, random-weight models)."""

from __future__ import annotations

from pathlib import Path

from deforum.integrations.webui import tools
from deforum.media.video import count_video_frames
from tests.integrations.post.test_postprocess_support import make_video, save_rife_weights, save_srvgg
from tests.webui_stub.fixture import webui_host  # noqa: F401  (the `webui` fixture)


def test_interpolate_tool_writes_the_rife_video(webui) -> None:
    models = Path(webui.paths.models_path)
    save_rife_weights(models / "Deforum" / "RIFE46.pkl")
    video = make_video(webui.root / "clip.mp4", frames=4)
    out = Path(tools.interpolate_tool(str(video), "RIFE v4.6", 2, 1, False, 0))
    assert out.name == "clip_RIFE_x2.mp4" and count_video_frames(str(out)) == 7


def test_upscale_tool_writes_the_upscaled_video(webui) -> None:
    models = Path(webui.paths.models_path)
    save_srvgg(models / "Deforum" / "realesr-animevideov3.pth")
    video = make_video(webui.root / "clip.mp4", frames=3, size=32)
    out = Path(tools.upscale_tool(str(video), "realesr-animevideov3", "x2", True, 0))
    assert out.name == "clip_Upscaled_x2.mp4" and count_video_frames(str(out)) == 3
