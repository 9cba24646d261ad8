"""The WebUI Output tab's interpolation and upscaling tools (stub host, random-weight models)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deforum.integrations.webui import tools
from deforum.media.video import count_video_frames
from deforum.ui.host import VideoFacts
from tests.integrations.post.test_postprocess_support import make_video, save_rife_weights, save_srvgg
from tests.webui_stub.fixture import webui_host  # noqa: F401  (the `webui` fixture)


def test_interpolate_tool_writes_the_rife_video(webui) -> None:
    models = Path(webui.paths.models_path)
    save_rife_weights(models / "Deforum" / "RIFE46.pkl")
    video = make_video(webui.root / "clip.mp4", frames=4)
    out = Path(tools.interpolate_tool([str(video)], "RIFE v4.6", 2, 1, False, 0))
    assert out.name == "clip_RIFE_x2.mp4" and count_video_frames(str(out)) == 7


def test_upscale_tool_writes_the_upscaled_video(webui) -> None:
    models = Path(webui.paths.models_path)
    save_srvgg(models / "Deforum" / "realesr-animevideov3.pth")
    video = make_video(webui.root / "clip.mp4", frames=3, size=32)
    out = Path(tools.upscale_tool([str(video)], "realesr-animevideov3", "x2", True, 0))
    assert out.name == "clip_Upscaled_x2.mp4" and count_video_frames(str(out)) == 3


def test_interpolate_tool_takes_uploaded_pictures_in_name_order_and_reads_their_facts(webui) -> None:
    from PIL import Image

    models = Path(webui.paths.models_path)
    save_rife_weights(models / "Deforum" / "RIFE46.pkl")
    pictures = []
    for number, name in enumerate(["b.png", "a.png", "c.png"]):
        Image.new("RGB", (32, 24), (number * 80, 0, 0)).save(webui.root / name)
        pictures.append(str(webui.root / name))
    assert tools.video_facts(pictures) == VideoFacts(3, None, 32, 24)
    out = Path(tools.interpolate_tool(pictures, "RIFE v4.6", 2, 1, False, 10))
    assert out.suffix == ".mp4" and count_video_frames(str(out)) == 5
    first = Path(tools.one_source(pictures).replace("%09d", f"{0:09d}"))
    assert Image.open(first).getpixel((0, 0)) == (80, 0, 0)


def test_video_facts_read_a_videos_frames_rate_and_size(webui) -> None:
    video = make_video(webui.root / "clip.mp4", frames=4, size=32)
    facts = tools.video_facts([str(video)])
    assert (facts.frames, facts.width, facts.height) == (4, 32, 32) and facts.fps and facts.fps > 0


def test_a_weights_file_the_webuis_safety_check_refuses_gets_a_clear_error(webui, monkeypatch) -> None:
    import torch

    models = Path(webui.paths.models_path)
    save_rife_weights(models / "Deforum" / "RIFE46.pkl")
    video = make_video(webui.root / "clip.mp4", frames=3)
    monkeypatch.setattr(torch, "load", lambda *args, **kwargs: None)  # what A1111's safe unpickler returns
    with pytest.raises(ValueError, match="RIFE46.pkl could not be read as weights: the WebUI's pickle safety"):
        tools.interpolate_tool([str(video)], "RIFE v4.6", 2, 1, False, 0)
