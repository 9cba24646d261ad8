"""Real Wan weights on a GPU (opt-in): set DEFORUM_WAN_MODEL to a diffusers Wan folder, e.g.
`DEFORUM_WAN_MODEL=models/Deforum/wan/Wan2.1-VACE-1.3B-diffusers pytest tests/integrations/wan/test_wan_real.py`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from deforum.config.settings_io import load
from deforum.integrations.wan import render_wan
from deforum.media.frames_io import frame_filename, read_image
from tests.conftest import ROOT

MODEL = os.environ.get("DEFORUM_WAN_MODEL", "")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not MODEL, reason="set DEFORUM_WAN_MODEL to run with real weights")]


def test_two_chained_clips_continue_from_the_last_frame(tmp_path):
    settings = load(ROOT / "default_settings.txt").replace(
        animation_mode="Wan Video", max_frames=33, fps=16, seed=42, batch_name="wan-real",
        prompts={"0": "a red fox walking through fresh snow", "17": "a red fox running through a pine forest"},
        animation_prompts_positive="", animation_prompts_negative="blurry, low quality", translation_z="0:(2)",
        zoom="0:(1)", wan_t2v_model="Custom Path", wan_model_path=str(Path(MODEL).absolute()),
        wan_resolution="832x480", wan_inference_steps=int(os.environ.get("DEFORUM_WAN_STEPS", "20")),
        add_soundtrack="None")
    result = render_wan(settings, tmp_path, timestring="20250101000000")
    assert result.frames_written == 33 and result.video is not None
    frames = [read_image(result.outdir / frame_filename(result.timestring, i)).astype(np.float32) for i in range(33)]
    assert frames[0].shape == (480, 832, 3) and frames[0].std() > 10
    seam = np.abs(frames[17] - frames[16]).mean()
    cut = np.abs(frames[32] - frames[0]).mean()
    assert seam < cut, f"the chained clip should continue from frame 16 (seam {seam:.1f}, whole-run change {cut:.1f})"
