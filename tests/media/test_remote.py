"""URL inputs: every path setting the original read from the web, fetched once per run from a loopback host."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deforum.config.settings_io import load
from deforum.core.inputs import RenderServices
from deforum.core.preview import PreviewModelService
from deforum.core.run import run_render
from deforum.media import remote
from deforum.media.frames_io import ImageSourceError, existing_frames, load_image_source
from deforum.media.video import ffmpeg_path, probe_media
from tests.conftest import DATA, SHARED_COMPAT
from tests.loopback_hosts import LoopbackHosts

ORIGINAL_HOST = "https://deforum.github.io"
DEFAULTS = (SHARED_COMPAT if SHARED_COMPAT.is_dir() else DATA / "compat") / "original" / "default_settings.txt"


def image_bytes(colour: tuple[int, int, int], fmt: str = "PNG") -> bytes:
    """A 16×16 image of one colour."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, fmt)
    return buffer.getvalue()


def ffmpeg_bytes(tmp_path: Path, name: str, *args: str) -> bytes:
    """A small media file made with ffmpeg."""
    out = tmp_path / name
    subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", *args, str(out)], check=True)
    return out.read_bytes()


@pytest.fixture
def web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The loopback host serving the original's a1/ files (tiny stand-ins), downloads on."""
    monkeypatch.setenv("DEFORUM_OFFLINE", "0")
    video = ["-f", "lavfi", "-i", "testsrc=size=64x64:rate=10", "-frames:v", "12", "-pix_fmt", "yuv420p"]
    with LoopbackHosts() as server:
        server.add_file("/a1/M1.jpg", image_bytes((255, 255, 255), "JPEG"), "image/jpeg")
        for index, colour in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200)], start=1):
            server.add_file(f"/a1/Gi{index}.png", image_bytes(colour), "image/png")
        server.add_file("/a1/Gi4.jpg", image_bytes((90, 90, 90), "JPEG"), "image/jpeg")
        server.add_file("/a1/V1.mp4", ffmpeg_bytes(tmp_path, "v1.mp4", *video), "video/mp4")
        server.add_file("/a1/VM1.mp4", ffmpeg_bytes(tmp_path, "vm1.mp4", *video), "video/mp4")
        server.add_file("/a1/A1.mp3", ffmpeg_bytes(tmp_path, "a1.mp3", "-f", "lavfi", "-i",
                                                   "sine=frequency=440:duration=1"), "audio/mpeg")
        server.add_file("/page.html", b"<html>login</html>", "text/html")
        yield server


def defaults_on(server: LoopbackHosts, tmp_path: Path, **changes: object):
    """The original's default_settings.txt with its https://deforum.github.io host rewritten to the loopback host."""
    text = DEFAULTS.read_text(encoding="utf-8").replace(ORIGINAL_HOST, server.endpoint)
    path = tmp_path / "default_settings.txt"
    path.write_text(text, encoding="utf-8")
    small = {"W": 64, "H": 64, "max_frames": 4, "seed": 7, "batch_name": "run", "motion_preview_mode": True}
    return load(path).replace(**{**small, **changes})


def render(settings, root: Path):
    """A motion-preview render of ``settings``."""
    return run_render(settings, RenderServices(model=PreviewModelService()), root, timestring="20240101000000")


def test_default_settings_video_mask_and_soundtrack_urls_render(web, tmp_path):
    settings = defaults_on(web, tmp_path, animation_mode="Video Input", use_mask=True, use_mask_video=True,
                           add_soundtrack="File")
    assert settings.anim.video_init_path == web.url("/a1/V1.mp4")
    result = render(settings, tmp_path / "out")
    assert existing_frames(result.outdir, result.timestring) == list(range(12))  # Video Input: the video's frames
    assert probe_media(str(result.video)).has_audio
    for path in ("/a1/V1.mp4", "/a1/VM1.mp4", "/a1/A1.mp3"):
        assert web.state.gets(path) == [""], path
    saved = json.loads((result.outdir / "20240101000000_settings.txt").read_text())
    assert saved["video_init_path"] == web.url("/a1/V1.mp4")


def test_default_settings_guided_images_mask_init_and_colour_image_urls_render(web, tmp_path):
    settings = defaults_on(web, tmp_path, animation_mode="2D", use_looper=True, use_init=True, use_mask=True,
                           init_image=web.url("/a1/Gi2.png"), color_coherence="Image",
                           color_coherence_image_path=web.url("/a1/Gi3.png"), strength_0_no_init=True)
    result = render(settings, tmp_path / "out")
    assert existing_frames(result.outdir, result.timestring) == [0, 1, 2, 3]
    assert web.state.gets("/a1/Gi1.png") == [""] and web.state.gets("/a1/Gi2.png") == [""]
    assert web.state.gets("/a1/Gi3.png") == [""] and web.state.gets("/a1/M1.jpg") == [""]


def test_a_parseq_manifest_url_is_read(web, tmp_path):
    from deforum.integrations.features.parseq import ParseqHook

    manifest = (DEFAULTS.parent / "parseq.json").read_bytes()
    url = web.add_file("/manifest.json", manifest, "application/json")
    hook = ParseqHook.from_settings(defaults_on(web, tmp_path, parseq_manifest=url))
    assert hook is not None and web.state.gets("/manifest.json") == [""]


def test_a_controlnet_video_url_is_extracted(web, tmp_path):
    from deforum.integrations.features.controlnet import UnitConfig, extract_unit_frames

    settings = defaults_on(web, tmp_path, cn_1_enabled=True, cn_1_vid_path=web.url("/a1/V1.mp4"))
    with remote.url_inputs():
        folder = extract_unit_frames(settings, tmp_path / "out", UnitConfig.from_settings(settings, 1))
    assert len(list(folder.glob("*.jpg"))) == 4 and web.state.gets("/a1/V1.mp4") == [""]


def test_the_same_url_is_fetched_once_per_run_and_again_in_the_next(web):
    url = web.url("/a1/Gi1.png")
    for _ in range(2):
        with remote.url_inputs() as cache:
            first = load_image_source(url, (8, 8), setting="init_image")
            assert np.array_equal(first, load_image_source(url, (8, 8), setting="init_image"))
        assert not cache.folder.exists()
    assert web.state.gets("/a1/Gi1.png") == ["", ""]


def test_offline_refuses_a_url_with_the_fix(web, monkeypatch):
    monkeypatch.setenv("DEFORUM_OFFLINE", "1")
    with remote.url_inputs(), pytest.raises(ImageSourceError, match="downloads are off") as caught:
        load_image_source(web.url("/a1/M1.jpg"), setting="mask_file")
    assert "Setting 'mask_file'" in str(caught.value) and web.state.requests == []


def test_a_web_page_is_not_an_image(web):
    with remote.url_inputs(), pytest.raises(ImageSourceError, match="text/html"):
        load_image_source(web.url("/page.html"), setting="init_image")


def test_a_file_over_the_size_cap_is_refused(web, monkeypatch):
    monkeypatch.setattr(remote, "max_mb", lambda: 0)
    with remote.url_inputs(), pytest.raises(ImageSourceError, match="limit"):
        load_image_source(web.url("/a1/Gi1.png"), setting="init_image")


def test_public_only_refuses_loopback_and_redirects_to_it(web, monkeypatch):
    assert remote.public_address_problem(web.url("/a1/M1.jpg")) is not None
    for address in ("http://10.1.2.3/x.png", "http://169.254.169.254/latest", "http://[::1]/x.png"):
        assert "private, loopback or link-local" in remote.public_address_problem(address)
    real = remote.public_address_problem
    monkeypatch.setattr(remote, "public_address_problem",
                        lambda url: None if url.startswith("http://localhost:") else real(url))
    web.state.redirects["/hop.png"] = web.url("/a1/Gi1.png")
    hop = web.url("/hop.png").replace("127.0.0.1", "localhost")
    monkeypatch.setattr(remote, "_PUBLIC_ONLY", {"value": True})
    with remote.url_inputs():
        with pytest.raises(ImageSourceError, match="redirects to .*refused"):
            load_image_source(hop, setting="init_image")
        with pytest.raises(ImageSourceError, match="refused"):
            load_image_source(web.url("/a1/Gi1.png"), setting="init_image")
    assert web.state.gets("/a1/Gi1.png") == []
