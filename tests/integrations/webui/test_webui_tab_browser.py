"""The Deforum tab in a real WebUI, driven by headless Chromium as a user would (opt-in: DEFORUM_BROWSER=1).

Needs WEBUI_DIR (a WebUI prepared as shared/webui-host.md says; its models/Deforum gets tiny random tool weights),
Debian's chromium and `pip install playwright`. Fires every show/hide rule, round-trips the original's default
settings and a file with every field changed through Load/Save, renders with an uploaded init picture and runs each
Output tool on uploaded files.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, SHARED_COMPAT
from tests.integrations.webui.webui_real import TINY, WEBUI_DIR, WebUI, check_run, run_folders

pytestmark = pytest.mark.skipif(
    os.environ.get("DEFORUM_BROWSER") != "1" or WEBUI_DIR is None or not (WEBUI_DIR / "launch.py").is_file()
    or not (os.environ.get("CHROMIUM") or shutil.which("chromium")),
    reason="set DEFORUM_BROWSER=1, WEBUI_DIR to a prepared WebUI, and install chromium and playwright")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The Deforum tab open in headless Chromium, in a freshly started WebUI."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    from tests.integrations.webui.tab_browser import CHROMIUM_FLAGS, open_deforum, tool_weights

    tool_weights(WEBUI_DIR / "models")
    server = WebUI(tmp_path_factory.mktemp("webui") / "webui.log")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM") or shutil.which("chromium"),
                                         args=CHROMIUM_FLAGS)
            tab = browser.new_page(viewport={"width": 1280, "height": 1000})
            tab.server_log = server.log
            open_deforum(tab, f"http://127.0.0.1:{server.port}/")
            yield tab
            browser.close()
    finally:
        server.close()


def test_every_show_hide_rule_shows_and_hides_its_targets_without_touching_values(page) -> None:
    from tests.integrations.webui.tab_browser import corrupted_fields, fire_every_rule

    checks, failures = fire_every_rule(page)
    assert failures == [] and checks >= 200
    assert corrupted_fields(page) == []
    assert "TypeError" not in page.server_log.read_text()


@pytest.mark.parametrize("name", ["original", "changed"])
def test_load_then_save_keeps_every_setting(page, tmp_path: Path, name: str) -> None:
    from tests.integrations.webui.tab_browser import changed_settings, compare_files, load_then_save

    source = next(p for p in (SHARED_COMPAT, DATA / "compat") if p.is_dir()) / "original" / "default_settings.txt"
    if name == "changed":
        source = tmp_path / "changed.txt"
        source.write_text(json.dumps(changed_settings()), "utf-8")
    saved = tmp_path / "saved.txt"
    load_then_save(page, source, saved)
    compared, different = compare_files(source, saved)
    assert different == [] and compared >= 295


def test_an_uploaded_init_picture_is_rendered_from(page, tmp_path: Path) -> None:
    from PIL import Image

    from tests.integrations.webui.tab_browser import generate_with_init_upload

    picture = tmp_path / "init.png"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(picture)
    batch = f"tabinit{os.getpid()}"
    settings = tmp_path / "init_run.txt"
    settings.write_text(json.dumps({**TINY, "use_init": True, "strength": 0.5, "batch_name": batch + "_{timestring}"}),
                        "utf-8")
    timestring = generate_with_init_upload(page, settings, picture)
    folder = run_folders(batch)[-1]
    check_run(folder)
    written = json.loads(next(folder.glob(f"{timestring}_settings.txt")).read_text("utf-8"))
    assert written["use_init"] is True and written["init_image"] != TINY.get("init_image")
    assert Image.open(written["init_image"]).convert("RGB").getpixel((5, 5)) == (200, 30, 30)


def test_each_output_tool_runs_on_uploaded_files(page, tmp_path: Path) -> None:
    from PIL import Image

    from tests.integrations.post.test_postprocess_support import make_video
    from tests.integrations.webui.tab_browser import pick, reveal, run_upload_tool

    video = make_video(tmp_path / "clip.mp4", frames=4, fps=10, size=32)
    pictures = []
    for number in range(3):
        pictures.append(tmp_path / f"p{number}.png")
        Image.new("RGB", (32, 32), (number * 80, 50, 50)).save(pictures[-1])
    interpolate = ("interpolate_tool", "deforum_tool_result", "#deforum_tool_engine")
    runs = {
        "video": run_upload_tool(page, interpolate[0], "interp_vid", [video], "deforum_tool_interpolate",
                                 interpolate[1], subtab="Video", probe=interpolate[2]),
        "pictures": run_upload_tool(page, interpolate[0], "interp_pics", pictures, "deforum_tool_interpolate_pics",
                                    interpolate[1], subtab="Pictures", probe=interpolate[2]),
        "upscale": run_upload_tool(page, "upscale_tool", "upscale_vid", [video], "deforum_tool_upscale",
                                   "deforum_tool_upscale_result"),
    }
    reveal(page, "vid2depth", "#deforum_vid2depth_upload")
    pick(page, "deforum_vid2depth_algorithm", "Midas-3-Hybrid")  # A1111's transformers 4.30 has no Depth-Anything
    runs |= {
        "vid2depth": run_upload_tool(page, "vid2depth", "vid2depth", [video], "deforum_vid2depth_button",
                                     "deforum_vid2depth_result"),
    }
    assert runs["video"][0] == runs["upscale"][0] == runs["vid2depth"][0] == ["4", "10", "32x32"]
    assert runs["pictures"][0] == ["3", "-", "32x32"]
    assert "clip_RIFE_x2.mp4" in runs["video"][1] and "pics_" in runs["pictures"][1]
    assert "clip_Upscaled_x2.mp4" in runs["upscale"][1] and "Depth written to" in runs["vid2depth"][1]
