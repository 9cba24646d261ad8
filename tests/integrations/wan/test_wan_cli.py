"""The `wan plan` and `wan enhance` commands and the Wan branch of `render`."""

from __future__ import annotations

import argparse
import json

import pytest

from deforum.cli import build_parser
from deforum.cli.wan import add_wan_command, cmd_render_wan
from deforum.config.settings_io import load, save
from deforum.integrations.wan.testing import write_tiny_qwen, write_tiny_wan_model
from tests.conftest import ROOT


@pytest.fixture
def wan_file(tmp_path):
    """A small Wan Video settings file."""
    settings = load(ROOT / "default_settings.txt").replace(
        animation_mode="Wan Video", max_frames=12, prompts={"0": "a cat", "5": "a dog"}, wan_resolution="32x32",
        wan_inference_steps=2, seed=3, add_soundtrack="None", skip_video_creation=True, batch_name="wan")
    return save(settings, tmp_path / "wan.txt")


def run(argv: list[str]) -> int:
    """Parse and run a command with the wan commands registered."""
    args = build_parser((add_wan_command,)).parse_args(argv)
    return args.handler(args)


def test_wan_plan_prints_the_clips(wan_file, capsys):
    assert run(["wan", "plan", str(wan_file), "--set", "seed_behavior=fixed"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Wan plan: 2 clip(s), 12 frames") and "clip 1: frames 5-11" in out and "seed 3" in out


def test_wan_enhance_prints_editable_json(wan_file, tmp_path, capsys):
    folder = write_tiny_qwen(tmp_path / "qwen")
    assert run(["wan", "enhance", str(wan_file), "--qwen", str(folder)]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"0", "5"}


def test_render_refuses_a_preview_of_wan_video(wan_file):
    args = argparse.Namespace(preview=True, outdir="out", models_dir=None)
    with pytest.raises(ValueError, match="wan plan"):
        cmd_render_wan(load(wan_file), args)


@pytest.mark.slow
def test_render_finds_the_models_and_prints_the_folder_last(wan_file, tmp_path, capsys, monkeypatch):
    pytest.importorskip("ftfy")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    write_tiny_wan_model(tmp_path / "models" / "wan" / "Wan2.1-VACE-1.3B-diffusers")
    args = argparse.Namespace(preview=False, outdir=str(tmp_path / "out"), models_dir=str(tmp_path / "models"),
                              resume=None)
    assert cmd_render_wan(load(wan_file), args) == 0
    folder = capsys.readouterr().out.strip().splitlines()[-1]
    assert folder == str(tmp_path / "out" / "wan") and len(list((tmp_path / "out" / "wan").glob("*.png"))) == 12
