"""Generation-info subtitles: cue format and timing, parameter text as the original printed it, the writer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deforum.media import srt

SNAPSHOT_FRAME_0 = (
    "F#: 0; Cadence: false; Seed: 1; Angle: 0; Tr.C.X: 0.500; Tr.C.Y: 0.500; Zoom: 1.002; TrX: 0; TrY: 0; TrZ: 0; "
    "RotX: 0; RotY: 0; RotZ: 0; PerFlT: 0; PerFlP: 0; PerFlG: 0; PerFlFV: 53; Noise: 0.040; StrSch: 0.650; "
    "CtrstSch: 1; CFGSch: 7; P2PCfgSch: 1.500; SubSSch: 1; SubSStrSch: 0; CkptSch: model1.ckpt; StepsSch: 25; "
    "SeedSch: 1; SamplerSchedule: Euler a; ClipskipSchedule: 2; NoiseMultiplierSchedule: 1.050; "
    "MaskSchedule: {video_mask}; NoiseMaskSchedule: {video_mask}; AmountSchedule: 0.050; KernelSchedule: 5; "
    "SigmaSchedule: 1; ThresholdSchedule: 0; AspectRatioSchedule: 1; FieldOfViewSchedule: 70; NearSchedule: 200; "
    "CadenceFlowFactorSchedule: 1; RedoFlowFactorSchedule: 1; FarSchedule: 10000; HybridCompAlphaSchedule: 0.500; "
    "HybridCompMaskBlendAlphaSchedule: 0.500; HybridCompMaskContrastSchedule: 1; "
    "HybridCompMaskAutoContrastCutoffHighSchedule: 100; HybridCompMaskAutoContrastCutoffLowSchedule: 0; "
    "HybridFlowFactorSchedule: 1; Prompt:  tiny cute swamp bunny, highly detailed, intricate, ultra hd, sharp photo, "
    "crepuscular rays, in focus, by tomasz alen kopera --neg"
)

SNAPSHOT_VALUES = [
    0.0, 0.5, 0.5, 1.0025, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 53.0, 0.04, 0.65, 1.0, 7.0, 1.5, 1.0, 0.0,
    "model1.ckpt", 25.0, 1.0, "Euler a", 2.0, 1.05, "{video_mask}", "{video_mask}", 0.05, 5.0, 1.0, 0.0, 1.0, 70.0,
    200.0, 1.0, 1.0, 10000.0, 0.5, 0.5, 1.0, 100.0, 0.0, 1.0,
]


def test_first_cue_matches_the_originals_snapshot_at_20_fps():
    values = {param.key: np.float64(value) if isinstance(value, float) else value
              for param, value in zip(srt.SRT_PARAMS, SNAPSHOT_VALUES, strict=True)}
    prompt = " tiny cute swamp bunny, highly detailed, intricate, ultra hd, sharp photo, crepuscular rays, " \
             "in focus, by tomasz alen kopera --neg "
    params = srt.format_frame_params(values, srt.SRT_PARAM_CHOICES, prompt)
    cue = srt.srt_cue(0, 20, srt.frame_info_text(0, 1, params))
    assert cue == f"1\n00:00:00,000 --> 00:00:00,050\n{SNAPSHOT_FRAME_0}\n\n"


def test_cue_timing_is_exact_and_rounds_down():
    assert srt.srt_cue(4, 20, "x") == "5\n00:00:00,200 --> 00:00:00,250\nx\n\n"
    assert srt.srt_cue(3, 3, "x").splitlines()[1] == "00:00:01,000 --> 00:00:01,333"
    assert srt.srt_cue(2997, 29.97, "x").splitlines()[1] == "00:01:40,000 --> 00:01:40,033"
    assert srt.srt_cue(24 * 3600 * 24 + 5, 24, "x").splitlines()[1] == "24:00:00,208 --> 24:00:00,250"


def test_cue_text_never_breaks_the_file_structure():
    cue = srt.srt_cue(0, 10, "line one\r\n\r\n\nline two\n")
    assert cue == "1\n00:00:00,000 --> 00:00:00,100\nline one\nline two\n\n"
    with pytest.raises(ValueError):
        srt.srt_cue(-1, 10, "x")
    with pytest.raises(ValueError):
        srt.srt_cue(0, 0, "x")


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, "1"), (-0.0, "0"), (0.04, "0.040"), (np.float64(1.5), "1.500"), (np.float32(2.0), "2"), (np.int64(5), "5"),
     (7, "7"), ("Euler a", "Euler a"), (math.nan, "nan"), (math.inf, "inf")],
)
def test_param_values_print_like_the_original(value, text):
    assert srt.format_param_value(value) == text


def test_params_follow_table_order_and_prompt_comes_last():
    values = {param.key: 1.25 for param in srt.SRT_PARAMS}
    text = srt.format_frame_params(values, ["Prompt", "Zoom", "Angle"], "a cat; ")
    assert text == "Angle: 1.250; Zoom: 1.250; Prompt: a cat"
    assert srt.format_frame_params(values, ["Noise Schedule", "Seed"]) == ""
    assert len(srt.SRT_PARAM_CHOICES) == 46 and srt.SRT_PARAM_CHOICES[-1] == "Prompt"


def test_frame_info_text_cadence_flags():
    assert srt.frame_info_text(3, 7, "") == "F#: 3; Cadence: false; Seed: 7; "
    assert srt.frame_info_text(3, 7, "Zoom: 1", tween=0.5) == "F#: 3; Cadence: True; Seed: 7; Zoom: 1"
    assert srt.frame_info_text(4, 7, "Zoom: 1", tween=1.0) == "F#: 4; Cadence: False; Seed: 7; Zoom: 1"


def test_writer_flushes_every_cue_and_writes_utf8(tmp_path):
    path = tmp_path / "ts.srt"
    writer = srt.SrtWriter(path, 15)
    writer.write(0, "Prompt: café 猫")
    assert path.read_text(encoding="utf-8") == "1\n00:00:00,000 --> 00:00:00,066\nPrompt: café 猫\n\n"
    writer.write(1, "b")
    writer.close()
    assert path.read_text(encoding="utf-8").count("-->") == 2


def test_writer_starts_empty_or_keeps_cues_before_the_resume_frame(tmp_path):
    path = tmp_path / "ts.srt"
    with srt.SrtWriter(path, 10) as writer:
        for frame in range(5):
            writer.write(frame, f"F#: {frame}\nsecond line")
    with srt.SrtWriter(path, 10, keep_frames_before=3) as writer:
        writer.write(3, "F#: 3 again")
    lines = path.read_text(encoding="utf-8").split("\n\n")
    assert [cue.splitlines()[0] for cue in lines if cue] == ["1", "2", "3", "4"]
    assert lines[2].endswith("F#: 2\nsecond line") and lines[3].endswith("F#: 3 again")
    with srt.SrtWriter(path, 10):
        pass
    assert path.read_text() == ""
