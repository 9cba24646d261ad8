"""The tab generated from FIELD_SPECS: layout coverage, component specs, value round trips, rules, actions."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from deforum.config.settings_io import load
from deforum.integrations.webui.tab_host import initial_settings, webui_tab_host
from deforum.models.fields import Kind
from deforum.models.settings import FIELD_SPECS, Settings, SettingsError
from deforum.ui import actions
from deforum.ui.help_text import HELP_BLOCKS
from deforum.ui.host import TabHost
from deforum.ui.layout import HIDDEN_KEYS, PROMPT_TEXT_KEYS, help_names, layout_keys, widget_names
from deforum.ui.specs import component_args, component_specs, hint_for, info_for, label_for, ui_keys
from deforum.ui.values import settings_from_ui, ui_values
from deforum.ui.visibility import RULES, visibility
from deforum.ui.widgets import WIDGETS
from tests.conftest import compat_settings_files
from tests.webui_stub.fixture import webui_host  # noqa: F401  (the `webui` fixture)


def test_every_setting_has_exactly_one_place_in_the_tab() -> None:
    placed = Counter(layout_keys())
    assert [k for k, n in placed.items() if n > 1] == []
    assert set(placed) | set(HIDDEN_KEYS) == set(FIELD_SPECS) | set(PROMPT_TEXT_KEYS)
    assert set(widget_names()) <= set(WIDGETS)


@pytest.mark.parametrize(("kind", "component"), [
    (Kind.BOOL, "checkbox"), (Kind.SCHEDULE, "textbox"), (Kind.STR_SCHEDULE, "textbox"), (Kind.STR, "textbox"),
    (Kind.JSON_TEXT, "textbox"), (Kind.INT_TEXT, "slider"), (Kind.MAPPING, "textbox"),
])
def test_kinds_map_to_components(kind: Kind, component: str) -> None:
    assert {component_args(s)["component"] for s in FIELD_SPECS.values() if s.kind is kind} == {component}


def test_numbers_are_sliders_with_the_declared_ranges_and_number_boxes_otherwise() -> None:
    assert component_args(FIELD_SPECS["strength"]) == {"component": "slider", "minimum": 0, "maximum": 1,
                                                       "step": 0.01}
    assert component_args(FIELD_SPECS["perlin_octaves"])["step"] == 1
    assert component_args(FIELD_SPECS["W"]) == {"component": "slider", "minimum": 64, "maximum": 2048, "step": 64}
    assert component_args(FIELD_SPECS["fps"]) == {"component": "slider", "minimum": 1, "maximum": 240, "step": 1}
    assert component_args(FIELD_SPECS["max_frames"]) == {"component": "number", "precision": 0}
    assert component_args(FIELD_SPECS["midas_weight"]) == {"component": "number", "precision": None}
    sliders = {k for k in FIELD_SPECS if component_args(FIELD_SPECS[k])["component"] == "slider"}
    assert {"steps", "W", "H", "diffusion_cadence", "seed_resize_from_w", "seed_resize_from_h", "mask_overlay_blur",
            "full_res_mask_padding", "hybrid_consistency_blur", "fps", "diffusion_redo"} <= sliders


def test_a_slider_for_a_text_setting_sends_a_number_back_as_the_originals_slider_did() -> None:
    named = dict(zip(ui_keys(), ui_values(Settings().replace(diffusion_redo="3"), ui_keys())))
    assert named["diffusion_redo"] == 3
    assert settings_from_ui({**named, "diffusion_redo": 2.0}).anim.diffusion_redo == 2


def test_every_setting_and_prompt_box_has_a_label_a_help_line_and_a_hint() -> None:
    for key in ui_keys():
        label, info, hint = label_for(key), info_for(key), hint_for(key)
        assert label and len(info) >= 12 and not info.endswith("."), key
        assert hint.startswith(info[:1].upper() + info[1:]) or hint == info, key
    assert FIELD_SPECS["W"].hint.endswith("Allowed: a whole number from 8 to 8192. Default: 512.")
    assert FIELD_SPECS["fill"].hint.endswith("Default: 'fill'.")


def test_choices_become_radios_or_dropdowns_with_the_specs_choices() -> None:
    assert component_args(FIELD_SPECS["border"]) == {"component": "radio", "choices": ("replicate", "wrap")}
    depth = component_args(FIELD_SPECS["depth_algorithm"])
    assert depth["component"] == "dropdown" and depth["choices"] == FIELD_SPECS["depth_algorithm"].choices
    assert component_args(FIELD_SPECS["shake_name"])["allow_custom"] is True


def test_specs_show_the_settings_values_and_the_hosts_samplers() -> None:
    settings = Settings().replace(fill=2, W=320, wan_prompts={"0": "x"})
    specs = component_specs(settings, {"sampler": ["Euler a", "DDIM"], "scheduler": ["Automatic"],
                                       "cn_module": ["none", "canny"], "cn_model": ["None", "control_canny"]})
    assert specs["cn_3_module"].choices == ("none", "canny") and specs["cn_5_model"].component == "dropdown"
    assert component_specs(settings)["cn_1_module"].component == "textbox"
    assert list(specs) == ui_keys()
    assert (specs["fill"].value, specs["W"].value, json.loads(specs["wan_prompts"].value)) == (
        "latent noise", 320, {"0": "x"})
    assert specs["sampler"].choices == ("Euler a", "DDIM") and specs["sampler"].allow_custom
    assert json.loads(specs["prompts"].value) == dict(settings.prompts) and specs["prompts"].lines == 8
    assert specs["show_info_on_ui"].visible is True and specs["W"].elem_id == "deforum_W"
    assert (label_for("W"), label_for("rotation_3d_x"), label_for("cn_2_guidance_end")) == (
        "Width", "Rotation 3D X", "Ending control step schedule")
    assert specs["W"].info == FIELD_SPECS["W"].info and "multiple of 8" in specs["W"].info


@pytest.mark.parametrize("path", compat_settings_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_settings_round_trip_through_the_tabs_values(path: Path) -> None:
    settings = load(path)
    named = dict(zip(ui_keys(), ui_values(settings, ui_keys())))
    empty_is_null = {k: v or None for k, v in settings.to_flat().items() if FIELD_SPECS.get(k) is not None
                     and FIELD_SPECS[k].kind is Kind.OPTIONAL_STR and FIELD_SPECS[k].default is None}
    slider_numbers = {"diffusion_redo": int(settings.anim.diffusion_redo)}  # a slider gives a number, as the original's
    assert settings_from_ui(named).to_flat() == {**settings.to_flat(), **empty_is_null, **slider_numbers}


def test_number_boxes_send_floats_and_bad_json_names_the_key() -> None:
    named = dict(zip(ui_keys(), ui_values(Settings(), ui_keys())))
    assert settings_from_ui({**named, "W": 256.0, "max_frames": 10.0}).args.W == 256
    with pytest.raises(SettingsError, match="'prompts'"):
        settings_from_ui({**named, "prompts": '{"0": "a cat",}'})
    with pytest.raises(SettingsError, match="'strength'"):
        settings_from_ui({**named, "strength": 1.5})


def test_each_shown_setting_is_driven_by_one_rule_and_defaults_show_the_originals_fields() -> None:
    targets = [t for rule in RULES for t in rule.targets]
    helps = {"help_" + name for name in help_names()}
    assert len(targets) == len(set(targets)) and set(targets) | {r.trigger for r in RULES} <= set(FIELD_SPECS) | helps
    shown = visibility(Settings().to_flat())
    assert shown["seed_iter_N"] and not shown["seed_schedule"] and shown["perlin_octaves"]
    assert shown["translation_z"] and not shown["angle"] and not shown["midas_weight"]
    assert not shown["frame_interpolation_x_amount"] and shown["fps"]
    assert shown["enable_ancestral_eta_scheduling"] and not shown["enable_ddim_eta_scheduling"]
    assert visibility({"sampler": "DDIM"}) == {"enable_ddim_eta_scheduling": True,
                                               "enable_ancestral_eta_scheduling": False}
    assert not shown["help_leres"] and visibility({"depth_algorithm": "Leres"})["help_leres"]


def test_every_help_block_is_placed_once_in_the_tab() -> None:
    assert sorted(help_names()) == sorted(HELP_BLOCKS) and len(HELP_BLOCKS) == 11


def test_generate_renders_the_tab_values_and_fills_gallery_and_resume(webui) -> None:
    named = dict(zip(ui_keys(), ui_values(Settings(), ui_keys())))
    named.update(W=64, H=64, max_frames=3, animation_mode="2D", diffusion_cadence=1, scheduler="Automatic")
    webui.shared.total_tqdm.update()
    out = actions.generate(webui_tab_host(), named)
    assert len(out.gallery) == 3 and out.video and out.timestring and out.timestring in out.gallery[0]
    assert "3 frame(s)" in out.info and out.log == ""
    assert webui.shared.total_tqdm.clears == 2 and webui.shared.total_tqdm.steps == 0


def test_an_uploaded_init_picture_replaces_the_init_image_path() -> None:
    named = {"init_image": "https://example.invalid/a.png", "use_init": True}
    assert actions.with_init_box(named, "/tmp/upload/b.png")["init_image"] == "/tmp/upload/b.png"
    assert actions.with_init_box(named, None) == named
    assert actions.with_init_box(named, SimpleNamespace(name="/tmp/c.png"))["init_image"] == "/tmp/c.png"


def test_generate_reports_invalid_values_without_rendering(webui) -> None:
    named = dict(zip(ui_keys(), ui_values(Settings(), ui_keys())))
    out = actions.generate(webui_tab_host(), {**named, "strength_schedule": "0: (", "animation_mode": "2D"})
    assert "strength_schedule" in out.log and out.gallery == [] and webui.processing.CALLS == []


def test_batch_mode_renders_each_file_and_skips_invalid_ones(webui) -> None:
    good = webui.root / "good.txt"
    good.write_text(json.dumps({"W": 64, "H": 64, "max_frames": 2, "animation_mode": "2D", "seed": 1}), "utf-8")
    bad = webui.root / "bad.txt"
    bad.write_text("{not json", "utf-8")
    out = actions.generate(webui_tab_host(), {}, batch_enabled=True, batch_files=[str(bad), str(good)])
    assert len(out.gallery) == 2 and "bad.txt" in out.log and webui.processing.CALLS[0].scheduler == "Automatic"


def test_save_then_load_settings_round_trip(webui) -> None:
    keys = ui_keys()
    named = dict(zip(keys, ui_values(Settings().replace(seed=42, zoom="0: (1.5)"), keys)))
    assert "saved" in actions.save_settings(webui_tab_host(), '"my settings.txt"', named)
    saved = json.loads((webui.root / "my settings.txt").read_text("utf-8"))
    assert saved["seed"] == 42 and saved["sd_model_name"] == "tiny-sd15.safetensors"
    values, text = actions.load_settings("my settings.txt", keys)
    assert "loaded" in text and dict(zip(keys, values)) == named


def test_load_all_settings_keeps_prompt_text_byte_for_byte(webui) -> None:
    prompts = {"0": " tiny cute bunny  --neg blur ", "30": "\tcat"}
    (webui.root / "p.txt").write_text(json.dumps({"prompts": prompts, "animation_prompts_positive": " pos",
                                                  "animation_prompts_negative": "neg "}), "utf-8")
    values, _ = actions.load_settings("p.txt", ui_keys())
    named = dict(zip(ui_keys(), values))
    assert json.loads(named["prompts"]) == prompts and named["animation_prompts_positive"] == " pos"
    assert named["animation_prompts_negative"] == "neg "


def test_loading_a_missing_file_changes_nothing_and_says_why(webui) -> None:
    values, text = actions.load_settings("nope.txt", ui_keys())
    assert values is None and "not found" in text


def test_load_video_settings_changes_only_the_output_settings(webui) -> None:
    (webui.root / "v.txt").write_text(json.dumps({"fps": 24, "seed": 9, "add_soundtrack": "File"}), "utf-8")
    values, _ = actions.load_video_settings("v.txt", ui_keys())
    keys = actions.output_keys(ui_keys())
    assert "seed" not in keys and dict(zip(keys, values))["fps"] == 24


def test_the_tab_starts_from_the_persistent_settings_when_asked(webui) -> None:
    path = webui.root / "persist.txt"
    path.write_text(json.dumps({"seed": 77}), "utf-8")
    assert initial_settings() == Settings().replace(animation_mode="2D") and Settings().anim.animation_mode == "3D"
    webui.shared.opts.data.update(deforum_enable_persistent_settings=True, deforum_persistent_settings_path=str(path))
    assert initial_settings().args.seed == 77


def test_the_real_blocks_build_with_gradio_when_installed(webui) -> None:
    gr = pytest.importorskip("gradio")
    from deforum.ui.tab import build_tab

    blocks = build_tab(webui_tab_host())
    ids = {getattr(block, "elem_id", None) for block in blocks.blocks.values()}
    assert {"deforum_generate", "deforum_interrupt", "deforum_skip", "deforum_gallery"} <= ids
    assert {f"deforum_{k}" for k in ui_keys()} <= ids
    assert isinstance(blocks, gr.Blocks)


def test_the_ui_package_imports_no_host_adapter_and_renders_nothing_on_its_own() -> None:
    import ast

    from tests.conftest import ROOT

    imported = set()
    for path in (ROOT / "deforum" / "ui").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    rooms = {name.split(".")[1] for name in imported if name.startswith("deforum.")}
    assert "integrations" not in rooms and "cli" not in rooms, rooms
    out = actions.generate(TabHost(), dict(zip(ui_keys(), ui_values(Settings(), ui_keys()))))
    assert "needs the WebUI" in out.log and "class='deforum-error'" in out.log


def test_the_tab_and_integration_modules_import_without_gradio_or_a_webui() -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import sys, deforum.ui.tab, deforum.integrations.webui.jobs, deforum.integrations.webui.render; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'gradio', 'modules'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"
