"""Headless-browser check of the Deforum tab in a real WebUI: it shows, settings load, Generate fills the gallery.

usage: WEBUI_DIR=... WEBUI_PYTHON=... python tests/integrations/webui/browser_check.py [--screenshot PATH]
Needs playwright (pip install playwright) and Debian's chromium (or CHROMIUM=path); prints SKIP and exits 0 when
either, or WEBUI_DIR, is missing. Exit status 0 when every check passes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

PANELS = ["Run", "Keyframes", "Prompts", "Init", "ControlNet", "Hybrid Video", "Output"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 180_000


def missing_requirements() -> str:
    """Why the check cannot run here, or "" when it can."""
    from tests.integrations.webui.webui_real import WEBUI_DIR

    if WEBUI_DIR is None or not (WEBUI_DIR / "launch.py").is_file():
        return "WEBUI_DIR is not set to a prepared WebUI"
    if not chromium():
        return "chromium is not installed"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return ""


def chromium() -> str | None:
    """The chromium executable."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def write_settings(folder: Path, batch: str) -> Path:
    """A small settings file with values different from the defaults."""
    from tests.integrations.webui.webui_real import TINY

    path = folder / "browser_settings.txt"
    path.write_text(json.dumps({**TINY, "seed": 4321, "batch_name": batch + "_{timestring}"}), encoding="utf-8")
    return path


def open_tab(page, url: str) -> list[str]:
    """Open the WebUI, click the Deforum tab, return the panel names shown."""
    page.goto(url, timeout=TIMEOUT_MS)
    page.locator("#tabs > .tab-nav button", has_text="Deforum").first.click(timeout=TIMEOUT_MS)
    page.locator("#deforum_generate").wait_for(state="visible", timeout=TIMEOUT_MS)
    return [b.strip() for b in page.locator("#deforum_panels > .tab-nav button").all_inner_texts()]


def load_settings(page, path: Path) -> dict[str, str]:
    """Type the settings path, press Load All Settings, wait for the values; return a few field values."""
    page.locator("#deforum_settings_path textarea").fill(str(path))
    page.locator("#deforum_load_settings").click()
    page.wait_for_function("document.querySelector('#deforum_seed input').value == '4321'", timeout=TIMEOUT_MS)
    return {key: page.locator(f"#deforum_{key} input").first.input_value() for key in ("seed", "W", "H", "max_frames")}


def generate(page) -> tuple[int, str]:
    """Press Generate, wait for the run to end and its frames in the gallery; return their count and the timestring."""
    page.locator("#deforum_generate").click()
    page.wait_for_function("/^[0-9]{14}$/.test(document.querySelector('#deforum_resume_timestring input').value)",
                           timeout=TIMEOUT_MS)
    page.wait_for_function("document.querySelector('#deforum_interrupt').style.display == 'none'", timeout=TIMEOUT_MS)
    page.wait_for_function("document.querySelectorAll('#deforum_gallery .thumbnail-item img').length >= 3",
                           timeout=TIMEOUT_MS)
    images = page.locator("#deforum_gallery .thumbnail-item img").count()
    return images, page.locator("#deforum_resume_timestring input").input_value()


def run(screenshot: Path) -> list[str]:
    """Every check against a freshly started WebUI; returns the failures."""
    from playwright.sync_api import sync_playwright

    from tests.integrations.webui.webui_real import WebUI, check_run, run_folders

    work = Path(tempfile.mkdtemp(prefix="deforum-browser-"))
    batch = f"browser_{int(time.time())}"
    settings = write_settings(work, batch)
    server = WebUI(work / "webui.log")
    failures: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            panels = open_tab(page, f"http://127.0.0.1:{server.port}/")
            print("panels:", panels)
            if [p for p in PANELS if p not in panels]:
                failures.append(f"panels missing: {panels}")
            values = load_settings(page, settings)
            print("loaded values:", values)
            if values != {"seed": "4321", "W": "64", "H": "64", "max_frames": "3"}:
                failures.append(f"settings not loaded into the fields: {values}")
            images, timestring = generate(page)
            print(f"gallery images: {images}, resume timestring: {timestring}")
            page.screenshot(path=str(screenshot), full_page=False)
            page.locator("#deforum_panels > .tab-nav button", has_text="Keyframes").click()
            page.screenshot(path=str(screenshot.with_name(screenshot.stem + "_keyframes.png")), full_page=True)
            browser.close()
        folders = run_folders(batch)
        print("output:", [str(f) for f in folders])
        check_run(folders[0])
    except Exception as err:  # report every failure, then stop the WebUI
        failures.append(f"{type(err).__name__}: {err}")
    finally:
        server.close()
    return failures


def main() -> int:
    """Run the check (or skip it) and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", default=str(Path(tempfile.gettempdir()) / "deforum_browser_check.png"))
    args = parser.parse_args()
    reason = missing_requirements()
    if reason:
        print(f"SKIP: {reason}")
        return 0
    failures = run(Path(args.screenshot))
    print(f"screenshot: {args.screenshot}")
    for failure in failures:
        print("FAIL:", re.sub(r"\s+", " ", failure)[:2000])
    print("OK" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
