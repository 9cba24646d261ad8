"""The tab's real gradio events, fired through Blocks' own API (no browser): show/hide rules and loaders."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest

from deforum.models.fields import Kind
from deforum.models.settings import FIELD_SPECS, Settings
from deforum.ui.visibility import RULES, rules_by_trigger
from tests.webui_stub.fixture import webui_host  # noqa: F401  (the `webui` fixture)

gr = pytest.importorskip("gradio")
GRADIO_MAJOR = int(gr.__version__.split(".")[0])


SAMPLERS = ["Euler a", "DDIM", "DPM++ 2M", "DPM2 a Karras"]


def trigger_values(key: str) -> list[Any]:
    """Every value a trigger setting can take (both states of a checkbox, each choice, some samplers)."""
    spec = FIELD_SPECS[key]
    if key == "sampler":
        return SAMPLERS
    return [True, False] if spec.kind is Kind.BOOL else list(spec.choices)


def _targets_of(dependency: Any) -> list[tuple[int, str]]:
    """(component id, event name) pairs a dependency listens to, in either gradio's shape."""
    if GRADIO_MAJOR < 4:
        return [(target, dependency["trigger"]) for target in dependency["targets"]]
    return [(target[0], target[1]) for target in dependency.targets]


def _dependencies(blocks: Any) -> list[Any]:
    """The Blocks' event dependencies, indexed like fn_index."""
    return list(blocks.dependencies) if GRADIO_MAJOR < 4 else list(blocks.fns.values())


def fn_index(blocks: Any, component: Any, event: str) -> int:
    """The index of the one handler wired to component's event."""
    found = [i for i, dep in enumerate(_dependencies(blocks)) if (component._id, event) in _targets_of(dep)]
    assert len(found) == 1, f"{component.elem_id}.{event} has {len(found)} handlers"
    return found[0]


def fire(blocks: Any, component: Any, event: str, inputs: list[Any]) -> list[Any]:
    """Run component's event handler as the server does (preprocess, call, postprocess): the output data."""
    index = fn_index(blocks, component, event)
    if GRADIO_MAJOR < 4:
        result = asyncio.run(blocks.process_api(fn_index=index, inputs=inputs, state={}))
    else:
        from gradio.state_holder import SessionState

        block_fn = blocks.fns[index]
        result = asyncio.run(blocks.process_api(block_fn=block_fn, inputs=inputs, state=SessionState(blocks)))
    return list(result["data"])


@pytest.fixture(name="tab")
def tab_blocks(webui) -> tuple[Any, dict[str, Any]]:
    """The built tab and its components by setting key."""
    from deforum.integrations.webui.tab_host import webui_tab_host
    from deforum.ui.tab import build_tab

    blocks = build_tab(replace(webui_tab_host(), choices={"sampler": SAMPLERS}))
    by_id = {getattr(b, "elem_id", None): b for b in blocks.blocks.values()}
    return blocks, by_id


def component(tab: tuple[Any, dict[str, Any]], key: str) -> Any:
    """The component of a setting key."""
    return tab[1]["deforum_" + key]


@pytest.mark.parametrize("trigger", sorted(rules_by_trigger()))
def test_every_show_hide_rule_shows_exactly_its_targets_and_leaves_their_values(tab, trigger: str) -> None:
    blocks, _ = tab
    rules = rules_by_trigger()[trigger]
    targets = [t for rule in rules for t in rule.targets]
    for value in trigger_values(trigger):
        data = fire(blocks, component(tab, trigger), "change", [value])
        expected = [bool(rule.shown(value)) for rule in rules for _ in rule.targets]
        assert len(data) == len(targets), (trigger, value)
        for target, update, shown in zip(targets, data, expected):
            assert isinstance(update, dict) and update.get("visible") is shown, (trigger, value, target, update)
            assert "value" not in update, (trigger, value, target, update)


def test_the_seven_single_target_rules_are_among_those_fired() -> None:
    single = {rule.trigger for rule in RULES if len(rule.targets) == 1}
    assert {"enable_ddim_eta_scheduling", "enable_ancestral_eta_scheduling", "aspect_ratio_use_old_formula",
            "depth_algorithm", "optical_flow_cadence", "optical_flow_redo_generation",
            "frame_interpolation_slow_mo_enabled"} <= single


def test_load_all_settings_sets_every_value_and_the_rules_then_leave_them(tab, webui) -> None:
    from deforum.ui.specs import ui_keys

    settings = Settings().replace(enable_ancestral_eta_scheduling=True, ancestral_eta_schedule="0: (0.5)",
                                  depth_algorithm="Midas+AdaBins (old)", midas_weight=0.3,
                                  optical_flow_cadence="RAFT", cadence_flow_factor_schedule="0: (0.7)")
    (webui.root / "s.txt").write_text(json.dumps(settings.to_flat()), "utf-8")
    blocks, by_id = tab
    data = fire(blocks, by_id["deforum_load_settings"], "click", ["s.txt"])
    values = dict(zip(ui_keys(), data))
    assert values["ancestral_eta_schedule"] == "0: (0.5)" and values["midas_weight"] == 0.3
    assert values["cadence_flow_factor_schedule"] == "0: (0.7)" and "loaded" in data[-1]
    for trigger in ("enable_ancestral_eta_scheduling", "depth_algorithm", "optical_flow_cadence"):
        assert fire(blocks, component(tab, trigger), "change", [values[trigger]])[0]["visible"] is True


def test_show_more_info_hides_and_brings_back_every_help_line(tab) -> None:
    from deforum.ui.specs import info_for, ui_keys

    blocks, _ = tab
    off = fire(blocks, component(tab, "show_info_on_ui"), "change", [False])
    on = fire(blocks, component(tab, "show_info_on_ui"), "change", [True])
    assert len(off) == len(on) == len(ui_keys())
    assert {u.get("info") for u in off} == {""} and [u["info"] for u in on] == [info_for(k) for k in ui_keys()]
    assert all("value" not in u and "visible" not in u for u in off + on)


def test_the_tab_starts_in_2d_with_help_hints_and_the_controlnet_note(tab) -> None:
    _, by_id = tab
    assert by_id["deforum_animation_mode"].value == "2D" and by_id["deforum_show_info_on_ui"].value is True
    assert "The ControlNet extension is not installed" in by_id["deforum_help_controlnet_missing"].value
    assert by_id["deforum_help_controlnet_missing"].visible and not by_id["deforum_help_leres"].visible
    hints = by_id["deforum_hints"].value
    assert "data-deforum-hints" in hints and "deforum_W" in hints and "Allowed: a whole number" in hints


def test_output_tools_read_out_a_typed_video_and_ask_for_a_file_when_none_is_chosen(tab, webui) -> None:
    from tests.integrations.post.test_postprocess_support import make_video

    blocks, by_id = tab
    video = make_video(webui.root / "clip.mp4", frames=5, fps=12, size=32)
    readouts = fire(blocks, by_id["deforum_upscale_vid_source"], "blur", [None, str(video)])
    assert [r if isinstance(r, str) else r.get("value") for r in readouts] == ["5", "12", "32x32"]
    answer = fire(blocks, by_id["deforum_tool_upscale"], "click", [None, "", "realesr-animevideov3", "x2", True])
    assert "Choose a file" in answer[0] and "deforum-error" in answer[0]
    missing = fire(blocks, by_id["deforum_vid2depth_button"], "click",
                   [None, str(webui.root / "nope.mp4"), "Depth-Anything-V2-Small", True, 0.2, "None", 127, 255, 11,
                    2, True, 0])
    assert "does not exist" in missing[0]


def test_labels_are_unique_so_the_webuis_ui_config_keeps_each_components_own_default(tab) -> None:
    from collections import Counter

    _, by_id = tab
    labels = Counter(getattr(block, "label", None) for elem_id, block in by_id.items()
                     if elem_id and not elem_id.startswith("deforum_cn_")
                     and getattr(block, "interactive", None) is not False
                     and not elem_id.endswith(("_source", "_upload")))
    assert [label for label, count in labels.items() if label and count > 1] == []
