"""The .srt through the engine: every label the original offers, string schedules, the original's prompt text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from deforum.core.engine import RenderServices
from deforum.core.preview import PreviewModelService
from deforum.core.run import run_render
from deforum.media.srt import SRT_PARAM_CHOICES
from tests.conftest import DATA, ROOT
from tests.core.test_render import small_settings

BUNNY = "tiny cute swamp bunny, highly detailed, intricate, ultra hd, sharp photo, crepuscular rays, in focus, 4k, " \
        "landscape"
CAT = "anthropomorphic clean cat, surrounded by mandelbulb fractals, epic angle and pose, symmetrical, 3d, depth of " \
      "field"


def _cues(path: Path) -> list[list[str]]:
    return [cue.splitlines() for cue in path.read_text(encoding="utf-8").split("\n\n") if cue.strip()]


def _render(tmp_path: Path, selected: list[str], **changes: object) -> list[list[str]]:
    settings = small_settings(skip_video_creation=True, **changes)
    result = run_render(settings, RenderServices(model=PreviewModelService()), tmp_path,
                        timestring="20240101000000", subtitles=selected)
    return _cues(result.outdir / "20240101000000.srt")


def test_every_label_the_original_offers_renders_with_string_schedules(tmp_path: Path) -> None:
    cues = _render(tmp_path, list(SRT_PARAM_CHOICES), max_frames=2, diffusion_cadence=1,
                   sampler_schedule='0: ("Euler a"), 1: ("DPM++ 2M")')
    assert len(cues) == 2
    first, second = cues[0][2], cues[1][2]
    assert "; CkptSch: model1.ckpt; StepsSch: 25; SeedSch: 7; SamplerSchedule: Euler a; " in first
    assert "; SamplerSchedule: DPM++ 2M; " in second
    assert "; MaskSchedule: {video_mask}; NoiseMaskSchedule: {video_mask}; AmountSchedule: 0.100; " in first
    assert first.endswith(f"; HybridFlowFactorSchedule: 1; Prompt:  {BUNNY} --neg nsfw, nude")


def test_prompt_is_the_originals_merged_keyframe_text_held_between_keyframes(tmp_path: Path) -> None:
    cues = _render(tmp_path, ["Prompt"], max_frames=32, diffusion_cadence=1,
                   animation_prompts_positive="masterpiece", animation_prompts_negative="blurry --neg",
                   prompts={"0": BUNNY, "30": f"{CAT} --neg"})
    texts = [cue[2] for cue in cues]
    assert texts[29] == f"F#: 29; Cadence: false; Seed: 36; Prompt: masterpiece {BUNNY} --neg blurry"
    assert texts[30].endswith(f"; Prompt: masterpiece {CAT} --neg  blurry")
    assert texts[31].endswith(f"; Prompt: masterpiece {CAT} --neg  blurry")


def test_a_string_label_with_quotes_and_parentheses_prints_as_the_original_sanitised_it(tmp_path: Path) -> None:
    cues = _render(tmp_path, ["Ckpt Sch"], max_frames=1, diffusion_cadence=1,
                   checkpoint_schedule="0: ('my (v2).safetensors')")
    assert cues[0][2] == "F#: 0; Cadence: false; Seed: 7; CkptSch: my v2.safetensors"


def test_cli_render_with_a_string_schedule_label(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "deforum", "render", str(DATA / "compat/original/default_settings.txt"), "--preview",
         "--set", "max_frames=2", "--set", "W=64", "--set", "H=64", "--set", "skip_video_creation=true",
         "--srt", "Ckpt Sch,Sampler Sch", "--outdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    srt = next(tmp_path.rglob("*.srt"))
    lines = [cue[2] for cue in _cues(srt)]
    assert [line.split("; ", 3)[3] for line in lines] == ["CkptSch: model1.ckpt; SamplerSchedule: Euler a"] * 2
