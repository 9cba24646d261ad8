"""Nothing silently ignored: every key of both default files is read by a render or declared in KEY_USES."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deforum.config.settings_io import (
    FILE_ONLY_KEYS,
    RUN_SHAPE_PROMPT_KEYS,
    UI_SHAPE_PROMPT_KEYS,
    load,
    read_json_file,
)
from deforum.core.engine import RenderServices
from deforum.core.run import run_render
from deforum.integrations.features.hooks import render_hooks
from deforum.media.frames_io import write_png_atomic
from deforum.media.video import stitch_video
from deforum.models.key_use import KEY_USES, KeyUse, host_notices, notice_lines, unused_settings
from deforum.models.settings import FIELD_SPECS
from tests.conftest import DATA, RecordingPreviewService
from tests.models.key_reads import KeyReads, record_key_reads

DEFAULT_FILES = (DATA / "compat/original/default_settings.txt", DATA / "compat/forge-fork/default_settings.txt")
RENDERED_MODES = ("2D", "3D", "Interpolation", "Video Input")
SMALL = {"W": 64, "H": 64, "max_frames": 8, "seed": 5, "soundtrack_path": "", "add_soundtrack": "None"}


def undeclared(file_keys: set[str], read: set[str], table: Mapping[str, KeyUse]) -> list[str]:
    """The setting keys of a file that no render read and the table does not declare."""
    return sorted(key for key in file_keys if key in FIELD_SPECS and key not in read and key not in table)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Local files for every setting that names one (a picture, a 6-frame video, the Parseq manifest)."""
    folder = tmp_path_factory.mktemp("inputs")
    for i in range(6):
        write_png_atomic(folder / f"src_{i:09}.png", np.full((64, 64, 3), (40 * i, 90, 200 - 30 * i), np.uint8))
    video = folder / "clip.mp4"
    stitch_video(str(folder / "src_%09d.png"), str(video), 6, crf=0, preset="ultrafast")
    image = str(folder / f"src_{3:09}.png")
    return {"video_init_path": str(video), "video_mask_path": str(video), "init_image": image, "mask_file": image,
            "color_coherence_image_path": image, "init_images": json.dumps({"0": image, "4": image}),
            **{f"cn_{n}_vid_path": image for n in range(1, 6)}}


def render_reads(reads: KeyReads, source: Path, out: Path, changes: Mapping[str, Any]) -> set[str]:
    """The keys read by a small render of a settings file with `changes` applied."""
    settings = load(source)
    with reads.pause():
        settings = settings.replace(**{**SMALL, **changes})
    reads.keys.clear()
    run_render(settings, RenderServices(model=RecordingPreviewService()), out, timestring="20240101000000",
               hooks=render_hooks(settings))
    return set(reads.keys)


@pytest.fixture(scope="module")
def recorder() -> Iterator[KeyReads]:
    """Key reads recorded for the whole module."""
    with pytest.MonkeyPatch.context() as patch:
        yield record_key_reads(patch)


@pytest.fixture(scope="module")
def default_reads(recorder: KeyReads, inputs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every key read by renders of both default files in each frame-by-frame mode."""
    out = tmp_path_factory.mktemp("renders")
    video = {"video_init_path": inputs["video_init_path"]}
    return {key for source in DEFAULT_FILES for mode in RENDERED_MODES
            for key in render_reads(recorder, source, out, {"animation_mode": mode, **video})}


@pytest.mark.parametrize("source", DEFAULT_FILES, ids=lambda p: p.parent.name)
def test_every_key_of_the_default_files_is_read_or_declared(source: Path, default_reads: set[str]) -> None:
    file_keys = set(read_json_file(source))
    assert undeclared(file_keys, default_reads, KEY_USES) == []


@pytest.mark.parametrize("source", DEFAULT_FILES, ids=lambda p: p.parent.name)
def test_the_other_keys_of_the_default_files_are_prompts_or_the_model_record(source: Path) -> None:
    others = set(read_json_file(source)) - set(FIELD_SPECS)
    assert others <= {"prompts", *RUN_SHAPE_PROMPT_KEYS, *UI_SHAPE_PROMPT_KEYS, *FILE_ONLY_KEYS}
    assert "prompts" in others


def test_the_check_fails_for_a_key_whose_entry_is_removed(default_reads: set[str]) -> None:
    file_keys = set(read_json_file(DEFAULT_FILES[1]))
    for key in ("store_frames_in_ram", "wan_t2v_model", "freeu_b1", "cn_3_model"):
        table = {k: v for k, v in KEY_USES.items() if k != key}
        assert undeclared(file_keys, default_reads, table) == [key]


def test_declared_keys_are_really_not_read_by_the_default_renders(default_reads: set[str]) -> None:
    assert {k for k, use in KEY_USES.items() if use.kind == "switch" and use.enable} & default_reads == set()


def _switch_groups() -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Switch entries grouped by the settings that enable them."""
    groups: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for key, use in KEY_USES.items():
        if use.kind == "switch" and use.enable:
            groups.setdefault(json.dumps(dict(use.enable), sort_keys=True), (dict(use.enable), []))[1].append(key)
    return groups


SWITCH_GROUPS = _switch_groups()


@pytest.mark.parametrize("group", sorted(SWITCH_GROUPS))
def test_switch_keys_are_read_once_switched_on(group: str, recorder: KeyReads, inputs: dict[str, Any],
                                               tmp_path: Path) -> None:
    enable, keys = SWITCH_GROUPS[group]
    changes = {**inputs, "animation_mode": "2D", **enable}
    if "parseq_manifest" in enable:
        changes["parseq_manifest"] = (DATA / "compat/original/parseq.json").read_text("utf-8")
    read = render_reads(recorder, DEFAULT_FILES[0], tmp_path, changes)
    assert sorted(set(keys) - read) == []


def test_ui_and_ignored_keys_are_never_read(default_reads: set[str]) -> None:
    assert {k for k, use in KEY_USES.items() if use.kind in ("ui", "ignored")} & default_reads == set()


def test_every_declared_key_is_a_setting() -> None:
    assert set(KEY_USES) - set(FIELD_SPECS) == set()


def test_notices_name_keys_of_other_modes_and_ignored_keys_only() -> None:
    values = {"animation_mode": "3D", "wan_seed": 3, "store_frames_in_ram": False, "zoom": "0: (1)",
              "freeu_enabled": True}
    notices = unused_settings(values, values)
    assert [n.key for n in notices] == ["wan_seed", "store_frames_in_ram"]
    assert "used only by the Wan Video mode, not by 3D" in notices[0].reason
    assert unused_settings(values, {**values, "animation_mode": "Wan Video"})[0].key == "store_frames_in_ram"


def test_notice_lines_group_keys_by_reason() -> None:
    values = {"animation_mode": "2D", "wan_seed": 3, "wan_t2v_model": "x"}
    assert notice_lines(unused_settings(values, values)) == [
        "Not used by this run: wan_seed, wan_t2v_model (used only by the Wan Video mode, not by 2D)."]


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, []),
    ({"freeu_enabled": True}, ["freeu_enabled"]),
    ({"kohya_hrfix_enabled": True, "distilled_cfg_scale_schedule": "0: (5)"},
     ["kohya_hrfix_enabled", "distilled_cfg_scale_schedule"]),
])
def test_host_notices_only_for_features_switched_on_in_a1111(changes: dict[str, Any], expected: list[str]) -> None:
    values = {"freeu_enabled": False, "kohya_hrfix_enabled": False, "distilled_cfg_scale_schedule": "0: (3.5)",
              **changes}
    assert [n.key for n in host_notices(values, "a1111")] == expected
    assert host_notices(values, "forge") == [] and host_notices(values, "standalone") == []


def test_the_tab_help_line_names_the_reason() -> None:
    assert FIELD_SPECS["wan_seed"].info.endswith("(used only by the Wan Video mode)")
    assert "A1111 has no FreeU" in FIELD_SPECS["freeu_enabled"].info
    assert FIELD_SPECS["zoom"].info == "2D scale per frame: 1 stays, above 1 moves in, below 1 moves out"
