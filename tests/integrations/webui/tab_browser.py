"""Driving the Deforum tab in a real WebUI with headless Chromium: panels, show/hide rules, loaders, uploads, tools.

Used by test_webui_tab_browser.py (opt-in) and, as a script, to take the screenshots in docs/ui/:
  WEBUI_URL=http://127.0.0.1:7872 python tests/integrations/tab_browser.py --screenshots docs/ui --prefix ours
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from deforum.models.fields import Kind  # noqa: E402
from deforum.models.settings import FIELD_SPECS  # noqa: E402
from deforum.ui.layout import PANELS, TOP, Node  # noqa: E402
from deforum.ui.visibility import rules_by_trigger  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 180_000
UPDATE_MS = 15_000
TAB = "#tab_deforum_interface"
PANEL_NAMES = ("Run", "Keyframes", "Prompts", "Init", "ControlNet", "Hybrid Video", "Output")
SAMPLERS = ("DDIM", "Euler a", "DPM++ 2M")
# What a trigger needs before it is on screen (the ETA boxes follow the sampler, slow-mo the engine, depth 3D).
PRECONDITIONS = {"enable_ddim_eta_scheduling": ("sampler", "DDIM"),
                 "enable_ancestral_eta_scheduling": ("sampler", "Euler a"),
                 "frame_interpolation_slow_mo_enabled": ("frame_interpolation_engine", "RIFE v4.6"),
                 "depth_algorithm": ("animation_mode", "3D"), "aspect_ratio_use_old_formula": ("animation_mode", "3D")}


def trail_of(key: str, nodes: tuple[Node, ...] = TOP + PANELS, trail: tuple[tuple[str, str], ...] = ()
             ) -> tuple[tuple[str, str], ...] | None:
    """The tabs and accordions (kind, title) to open, outermost first, to reach a setting."""
    for node in nodes:
        kind = node[0]
        if (kind == "row" and key in node[1]) or (kind == "widget" and node[1] == key):
            return trail
        children = {"tab": lambda n: n[2], "tabs": lambda n: n[1], "accordion": lambda n: n[2]}.get(kind)
        if children is None:
            continue
        step = trail + ((kind, node[1]),) if kind in ("tab", "accordion") else trail
        found = trail_of(key, children(node), step)
        if found is not None:
            return found
    return None


def open_deforum(page: Any, url: str) -> list[str]:
    """Open the WebUI and its Deforum tab; the panel names."""
    page.goto(url, timeout=TIMEOUT_MS)
    page.locator("#tabs > .tab-nav button", has_text="Deforum").first.click(timeout=TIMEOUT_MS)
    page.locator("#deforum_generate").wait_for(state="visible", timeout=TIMEOUT_MS)
    return [b.strip() for b in page.locator("#deforum_panels > .tab-nav button").all_inner_texts()]


def shown(page: Any, key: str) -> bool:
    """Whether a component is shown by its own style (whatever tab is open)."""
    return page.evaluate(f"getComputedStyle(document.getElementById('deforum_{key}')).display") != "none"


def click_tab(page: Any, title: str) -> None:
    """Click the tab button with exactly this title."""
    page.locator(f"{TAB} .tab-nav button").filter(has_text=re.compile(rf"^\s*{re.escape(title)}\s*$")).first.click()


def reveal(page: Any, key: str, probe: str = "") -> None:
    """Open the tabs (and accordions) a setting or widget sits in; probe: a selector shown once it is open."""
    for kind, title in trail_of(key) or ():
        if kind == "tab":
            click_tab(page, title)
        elif not page.locator(probe or f"#deforum_{key}").first.is_visible():
            page.locator(f"{TAB} .label-wrap").filter(has_text=title).first.click()


def set_value(page: Any, key: str, value: Any) -> None:
    """Set a checkbox, radio or dropdown as a user would (clicking)."""
    reveal(page, key)
    spec = FIELD_SPECS[key]
    root = page.locator(f"#deforum_{key}")
    if spec.kind is Kind.BOOL:
        root.locator("input[type=checkbox]").set_checked(bool(value))
    elif root.locator("input[type=radio]").count():
        root.locator(f"input[type=radio][value='{value}']").check()
    else:
        pick(page, f"deforum_{key}", value)


def pick(page: Any, elem_id: str, value: str) -> None:
    """Choose a value in a dropdown (gradio 3.41's list of options)."""
    root = page.locator(f"#{elem_id}")
    root.locator("input").first.click()
    root.locator(f"ul.options li[data-value='{value}']").click()


def trigger_values(key: str) -> list[Any]:
    """Values to drive a trigger through (each choice, both checkbox states, a few samplers)."""
    if key == "sampler":
        return list(SAMPLERS)
    return [True, False] if FIELD_SPECS[key].kind is Kind.BOOL else list(FIELD_SPECS[key].choices)


def wait_shown(page: Any, key: str, expected: bool) -> bool:
    """Wait until the component's visibility is as expected; whether it got there."""
    script = f"getComputedStyle(document.getElementById('deforum_{key}')).display {'!=' if expected else '=='} 'none'"
    try:
        page.wait_for_function(script, timeout=UPDATE_MS)
    except Exception:  # playwright's TimeoutError: report it as a failed rule
        return False
    return True


def fire_every_rule(page: Any) -> tuple[int, list[str]]:
    """Drive each trigger through its values and check each target; (checks made, failures)."""
    checks, failures = 0, []
    for trigger, rules in rules_by_trigger().items():
        if trigger in PRECONDITIONS:
            set_value(page, *PRECONDITIONS[trigger])
        for value in trigger_values(trigger):
            set_value(page, trigger, value)
            for rule in rules:
                for target in rule.targets:
                    checks += 1
                    if not wait_shown(page, target, bool(rule.shown(value))):
                        failures.append(f"{trigger}={value!r}: {target} should be "
                                        f"{'shown' if rule.shown(value) else 'hidden'}")
    return checks, failures


def corrupted_fields(page: Any) -> list[str]:
    """Text fields whose value holds an update dict instead of text (the single-target rule bug)."""
    found = page.evaluate("""() => Array.from(
        document.querySelectorAll('[id^=deforum_] textarea, [id^=deforum_] input'))
        .filter(e => (e.value || '').includes('__type__')).map(e => e.closest('[id^=deforum_]').id)""")
    return sorted(set(found))


def press_and_wait(page: Any, button: str, result: str, text: str) -> str:
    """Click a button and wait until the result element holds text; its text."""
    page.locator(f"#{button}").click()
    page.wait_for_function(f"(document.querySelector('#{result}').innerText || '').includes({text!r})",
                           timeout=TIMEOUT_MS)
    return page.locator(f"#{result}").first.inner_text()


def load_then_save(page: Any, source: Path, target: Path) -> str:
    """Load All Settings from source, then Save Settings to target; the messages."""
    page.locator("#deforum_settings_path textarea").fill(str(source))
    loaded = press_and_wait(page, "deforum_load_settings", "deforum_log", "loaded")
    page.locator("#deforum_settings_path textarea").fill(str(target))
    saved = press_and_wait(page, "deforum_save_settings", "deforum_log", "saved")
    return loaded + "\n" + saved


def _changed(key: str, default: Any) -> Any:
    """A valid value other than the default, on the slider's step where the tab shows a slider."""
    spec = FIELD_SPECS[key]
    if spec.kind is Kind.BOOL:
        return key != "legacy_colormatch" and not default
    if spec.kind in (Kind.CHOICE, Kind.LOOSE_CHOICE):
        return spec.choices[(spec.choices.index(default) + 1) % len(spec.choices)]
    if spec.kind is Kind.INDEX_CHOICE:
        return (int(default) + 1) % len(spec.choices)
    if spec.kind in (Kind.INT, Kind.FLOAT, Kind.NUMBER):
        step = spec.slider[2] if spec.slider else 1
        for value in (default + step, default - step, (spec.minimum + spec.maximum) / 2 if spec.slider is None
                      and spec.minimum is not None and spec.maximum is not None else default):
            if (spec.maximum is None or value <= spec.maximum) and (spec.minimum is None or value >= spec.minimum):
                return value
        return default
    if spec.kind in (Kind.SCHEDULE, Kind.STR_SCHEDULE):
        return f"{default}, 7: {default.split(':', 1)[1].split(',')[0].strip()}" if ":" in default else default
    if spec.kind is Kind.INT_TEXT:
        return str(int(default) + 2)
    if spec.kind is Kind.MAPPING:
        return {"0": " a lighthouse ", "12": "a boat"}
    if spec.kind is Kind.JSON_TEXT:
        return default.replace("Gi1.png", "Gi9.png", 1)
    return {"sampler": "DDIM", "scheduler": "Karras"}.get(key, f"{default or 'x'}_changed")


def changed_settings() -> dict[str, Any]:
    """A settings file with every field the tab edits changed (each change kept only when it loads)."""
    from deforum.config.settings_io import load

    data: dict[str, Any] = {"prompts": {"0": " tiny cute bunny --neg blur ", "20": "a boat  "},
                            "animation_prompts_positive": " warm light", "animation_prompts_negative": "noise "}
    for key, spec in FIELD_SPECS.items():
        candidate = {**data, key: _changed(key, spec.default)}
        try:
            load(candidate)
        except Exception:  # a change the file format refuses (e.g. a manifest that is not JSON): leave it
            continue
        data = candidate
    return data


def compare_files(expected: Path, saved: Path) -> tuple[int, list[str]]:
    """(keys compared, the keys that differ) between two settings files, both loaded as settings."""
    from deforum.config.settings_io import load

    want, got = load(expected).to_flat(), load(saved).to_flat()
    return len(want), sorted(k for k in want if want[k] != got.get(k))


def wait_for_run(page: Any) -> str:
    """Wait for Generate's run to end with frames in the gallery; the resume timestring it fills in."""
    page.wait_for_function("/^[0-9]{14}$/.test(document.querySelector('#deforum_resume_timestring input').value)",
                           timeout=TIMEOUT_MS)
    page.wait_for_function("document.querySelectorAll('#deforum_gallery .thumbnail-item img').length >= 1",
                           timeout=TIMEOUT_MS)
    return page.locator("#deforum_resume_timestring input").input_value()


def generate_with_init_upload(page: Any, settings: Path, picture: Path) -> str:
    """Load settings, upload the init picture into the box, Generate; the run's timestring."""
    page.locator("#deforum_settings_path textarea").fill(str(settings))
    press_and_wait(page, "deforum_load_settings", "deforum_log", "loaded")
    reveal(page, "init_image_box")
    page.locator("#deforum_init_image_box input[type=file]").set_input_files(str(picture))
    page.locator("#deforum_init_image_box img").first.wait_for(state="visible", timeout=TIMEOUT_MS)
    page.locator("#deforum_generate").click()
    return wait_for_run(page)


def readouts(page: Any, name: str) -> list[str]:
    """The In frame count / In FPS / In resolution read-outs of a tool, once they are filled in."""
    selector = f"#deforum_{name}_frames textarea"
    page.wait_for_function(f"document.querySelector({selector!r}).value != '-'", timeout=TIMEOUT_MS)
    return [page.locator(f"#deforum_{name}_{key} textarea").input_value() for key in ("frames", "fps", "res")]


def run_upload_tool(page: Any, widget: str, name: str, files: list[Path], button: str, result: str,
                    subtab: str = "", probe: str = "") -> tuple[list[str], str]:
    """Upload files into a tool, read its read-outs, press its button; (read-outs, result text)."""
    reveal(page, widget, probe or f"#deforum_{name}_upload")
    if subtab:
        click_tab(page, subtab)
    page.locator(f"#deforum_{name}_upload input[type=file]").set_input_files([str(f) for f in files])
    facts = readouts(page, name)
    answer = f"#{result} .deforum-info, #{result} .deforum-error"
    text = f"(document.querySelector({answer!r}) || {{innerText: ''}}).innerText"
    before = page.evaluate(text)
    page.locator(f"#{button}").click()
    page.wait_for_function(f"{text} !== '' && {text} !== {before!r}", timeout=TIMEOUT_MS)
    return facts, page.evaluate(text)


def tool_weights(models: Path) -> None:
    """Tiny random RIFE, Real-ESRGAN, Depth-Anything and DPT weights in models/Deforum, in files the WebUI accepts."""
    import torch

    from deforum.depth.testing import tiny_models_dir
    from tests.integrations.post.test_postprocess_support import save_rife_weights, save_srvgg

    tiny_models_dir(models, ("Depth-Anything-V2-Small", "Midas-3-Hybrid"))
    for path, save in ((models / "Deforum" / "RIFE46.pkl", save_rife_weights),
                       (models / "Deforum" / "realesr-animevideov3.pth", save_srvgg)):
        save(path)
        state = torch.load(str(path), map_location="cpu", weights_only=True)
        torch.save(state, str(path), _use_new_zipfile_serialization=False)  # the WebUI's safety check's format


def shrink_png(path: Path, colors: int = 64) -> None:
    """Rewrite a screenshot as an optimised palette PNG (a UI needs few colours)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def screenshot_panels(page: Any, folder: Path, prefix: str, panels: list[str]) -> list[Path]:
    """One full-page PNG per panel, 1280 px wide (the viewport), palette-optimised."""
    written = []
    for panel in panels:
        button = page.locator(f"{TAB} .tab-nav button").filter(has_text=re.compile(rf"^\s*{re.escape(panel)}\s*$"))
        if not button.count():  # the original has no ControlNet panel without the ControlNet extension
            continue
        button.first.click()
        page.wait_for_timeout(800)
        path = folder / f"{prefix}_{panel.lower().replace(' ', '_')}.png"
        page.screenshot(path=str(path), full_page=True)
        shrink_png(path)
        written.append(path)
    return written


def main() -> int:
    """Screenshots of each panel of the Deforum tab at WEBUI_URL."""
    import os

    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--screenshots", required=True)
    parser.add_argument("--prefix", default="ours")
    args = parser.parse_args()
    folder = Path(args.screenshots)
    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                     args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        panels = open_deforum(page, os.environ.get("WEBUI_URL", "http://127.0.0.1:7872/")) or list(PANEL_NAMES)
        for path in screenshot_panels(page, folder, args.prefix, panels):
            print(path)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
