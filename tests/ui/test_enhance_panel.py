"""Qwen prompt enhancement from the tab: the diff shown before applying, Apply writing wan_enhanced_prompts."""

from __future__ import annotations

import json

import pytest

from deforum.models.settings import Settings
from deforum.ui.enhance_panel import NEEDS_HOST, enhance_handler, prompts_diff
from deforum.ui.host import TabHost
from deforum.ui.specs import ui_keys
from deforum.ui.values import ui_values

KEYS = ui_keys()
VALUES = ui_values(Settings().replace(prompts={"0": "a cat", "30": "a dog --neg blur"}), KEYS)


def host_rewriting(calls: list[Settings]) -> TabHost:
    """A host whose enhancement adds ", golden hour" to each positive prompt (and records the settings)."""

    def enhance(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
        calls.append(settings)
        before = dict(settings.prompts)
        return before, {key: text.replace(" --neg", ", golden hour --neg") if "--neg" in text else
                        f"{text}, golden hour" for key, text in before.items()}

    return TabHost(enhance_prompts=enhance)


def test_the_diff_lists_each_changed_keyframe() -> None:
    diff = prompts_diff({"0": "a cat", "30": "a dog"}, {"0": "a cat, golden hour", "30": "a dog"})
    assert "-0: a cat\n+0: a cat, golden hour" in diff and "30: a dog" in diff
    assert prompts_diff({"0": "a"}, {"0": "a"}) == "(no change)"


def test_enhance_shows_the_diff_and_keeps_the_result_pending() -> None:
    calls: list[Settings] = []
    diff, pending = enhance_handler(host_rewriting(calls), KEYS)(*VALUES)
    assert calls[0].prompts == {"0": "a cat", "30": "a dog --neg blur"}
    assert "+0: a cat, golden hour" in diff and "+30: a dog, golden hour --neg blur" in diff
    assert json.loads(pending) == {"0": "a cat, golden hour", "30": "a dog, golden hour --neg blur"}


def test_without_a_host_or_with_a_failure_the_message_says_why() -> None:
    assert enhance_handler(TabHost(), KEYS)(*VALUES) == (NEEDS_HOST, "")

    def failing(_settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
        raise FileNotFoundError("Qwen2.5 was not found in models/Deforum")

    diff, pending = enhance_handler(TabHost(enhance_prompts=failing), KEYS)(*VALUES)
    assert diff.startswith("Prompt enhancement failed:") and "Qwen2.5" in diff and pending == ""


def test_the_tab_builds_with_the_panel_and_apply_writes_the_setting() -> None:
    gr = pytest.importorskip("gradio")
    from deforum.ui.enhance_panel import build_enhance_panel

    with gr.Blocks():
        target = gr.Textbox()
        made = build_enhance_panel(gr, TabHost(), {"wan_enhanced_prompts": target, "prompts": gr.Textbox()},
                                   ["prompts"])
    assert set(made) == {"enhance", "apply", "diff", "pending"}
