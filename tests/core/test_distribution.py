"""Keyframe distribution (the Forge fork's experimental core): plans, previews, strengths, resume and .srt."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from deforum.config.settings_io import load
from deforum.core.distribution import (
    cadence_count,
    diffused_frames,
    experimental_core_strength,
    uniform_frames,
)
from deforum.core.engine import RenderServices, render
from deforum.core.plan import plan_render
from deforum.core.preview import PreviewModelService
from deforum.core.run import run_render
from deforum.core.run_inputs import render_inputs, settings_plan
from deforum.core.services import CancelToken
from deforum.core.sink import checkpoint_path
from deforum.media.frames_io import existing_frames
from deforum.media.video import count_video_frames
from tests.conftest import DATA
from tests.core.test_render import CancelAfter

FORK = DATA / "compat/forge-fork/default_settings.txt"
MODES = ("Off", "Keyframes Only", "Additive", "Redistributed")
TS = "20240101000000"


def fork_settings(**changes: object):
    """The fork's default file at a tiny size, without the soundtrack URL."""
    base = load(FORK)
    return base.replace(**{"W": 32, "H": 24, "seed": 5, "batch_name": "fork", "add_soundtrack": "None", **changes})


def prompt_frames() -> list[int]:
    return sorted(int(key) for key in json.loads(FORK.read_text())["prompts"])


class Recording(PreviewModelService):
    """The preview service, recording each request's frame and denoising strength."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[int] = []
        self.denoise: list[float] = []

    def generate(self, request, cancel=None):
        self.frames.append(request.frame)
        self.denoise.append(request.denoising_strength)
        return super().generate(request, cancel)


class MemorySink:
    """Keeps the written frames and their tween values in memory."""

    def __init__(self) -> None:
        self.frames: dict[int, np.ndarray] = {}
        self.order: list[int] = []
        self.tweens: dict[int, float | None] = {}

    def write_frame(self, frame: int, image: np.ndarray) -> None:
        self.frames[frame] = image
        self.order.append(frame)

    def write_info(self, frame: int, seed: int, tween: float | None) -> None:
        self.tweens[frame] = tween

    def write_depth(self, frame: int, depth: np.ndarray) -> None:
        pass

    def save_state(self, state) -> None:
        pass


def expected_diffused(mode: str, max_frames: int, cadence: int, keys: list[int]) -> set[int]:
    """The fork's rule for each mode, in 0-based frames (the fork's 1-based index minus one)."""
    keyframes = {*keys, max_frames - 1}
    uniform = {int(n * (max_frames - 1) / (max_frames // cadence)) for n in range(1 + max_frames // cadence)}
    return {"Keyframes Only": keyframes, "Additive": uniform | keyframes}[mode]


@pytest.mark.parametrize("mode", MODES)
def test_motion_preview_of_the_fork_default_file_diffuses_the_planned_frames(mode: str) -> None:
    settings = fork_settings(keyframe_distribution=mode)
    inputs = render_inputs(settings, 5)
    model, sink = Recording(), MemorySink()
    outcome = render(inputs, RenderServices(model=model), sink)
    assert not outcome.cancelled and sorted(sink.order) == list(range(334)) and len(sink.order) == 334
    assert tuple(model.frames) == inputs.plan.diffused_frames
    keys = prompt_frames()
    if mode == "Off":
        assert model.frames == list(range(0, 334, 10))
    elif mode == "Redistributed":
        assert len(model.frames) == cadence_count(334, 10) == 34
        assert set(keys) | {0, 333} <= set(model.frames)
    else:
        assert set(model.frames) == expected_diffused(mode, 334, 10, keys)
    if mode != "Off":
        assert sink.order == list(range(334))
        for before, after in zip(model.frames, model.frames[1:], strict=False):
            tweens = [sink.tweens[f] for f in range(before + 1, after)]
            assert tweens == pytest.approx([(f - before) / (after - before) for f in range(before + 1, after)])


def test_keyframes_only_lists_the_nineteen_frames_of_the_fork_readme() -> None:
    plan = settings_plan(fork_settings(), 5)
    assert plan.diffused_frames == (*prompt_frames(), 333) and len(plan.diffused_frames) == 19
    text = plan.describe()
    assert "19 diffused, 315 tweens" in text
    assert "diffuse 12 (prompt keyframe; strength_schedule) after tweens 1..11 (11)" in text
    assert "diffuse 333 (last frame; strength_schedule) after tweens 325..332 (8)" in text


def test_strength_per_frame_follows_the_fork() -> None:
    settings = fork_settings(keyframe_distribution="Additive", strength_schedule="0: (0.85)",
                             keyframe_strength_schedule="0: (0.30)", max_frames=120)
    inputs = render_inputs(settings, 5)
    model = Recording()
    render(inputs, RenderServices(model=model), MemorySink())
    keys = set(prompt_frames()) | {119}
    assert 9 in model.frames and 12 in model.frames
    for frame, denoise in zip(model.frames[1:], model.denoise[1:], strict=True):
        assert denoise == pytest.approx(0.85 if frame in keys else 0.30), frame
    assert model.denoise[0] == 1.0
    assert experimental_core_strength(0.85) == pytest.approx(0.15)


def test_full_preview_run_writes_the_video_and_one_subtitle_per_frame(tmp_path: Path) -> None:
    settings = fork_settings(max_frames=50)
    result = run_render(settings, RenderServices(model=PreviewModelService()), tmp_path, timestring=TS,
                        subtitles=["Prompt"])
    assert existing_frames(result.outdir, TS) == list(range(50))
    assert count_video_frames(str(result.video)) == 50
    cues = [c for c in (result.outdir / f"{TS}.srt").read_text().split("\n\n") if c.strip()]
    assert len(cues) == 50
    assert "F#: 12; Cadence: false" in cues[12] and "sunglasses" in cues[12]
    assert "F#: 11; Cadence: True" in cues[11]


@pytest.mark.parametrize("checkpoint", [True, False])
def test_cancel_then_resume_equals_an_uninterrupted_run(tmp_path: Path, checkpoint: bool) -> None:
    settings = fork_settings(max_frames=30, keyframe_distribution="Additive", skip_video_creation=True)
    full = run_render(settings, RenderServices(model=PreviewModelService()), tmp_path / "full", timestring=TS)
    token = CancelToken()
    part = run_render(settings, RenderServices(model=CancelAfter(token, 3)), tmp_path / "part", cancel=token,
                      timestring=TS)
    assert part.cancelled and 0 < part.frames_written < 30
    if not checkpoint:
        checkpoint_path(part.outdir, TS).unlink()
    resumed = run_render(settings, RenderServices(model=PreviewModelService()), tmp_path / "part", resume=TS)
    assert existing_frames(resumed.outdir, TS) == list(range(30))
    for i in range(30):
        name = f"{TS}_{i:09}.png"
        assert (full.outdir / name).read_bytes() == (resumed.outdir / name).read_bytes(), name


@hypothesis_settings(max_examples=60)
@given(max_frames=st.integers(2, 400), cadence=st.integers(1, 30),
       keys=st.lists(st.integers(0, 450), min_size=1, max_size=20),
       mode=st.sampled_from(MODES[1:]))
def test_every_frame_is_written_once_and_frame_zero_is_diffused(max_frames: int, cadence: int, keys: list[int],
                                                                 mode: str) -> None:
    plan = plan_render(max_frames, "3D", cadence, mode, keys)
    assert sorted(plan.written_frames()) == list(range(max_frames))
    assert plan.diffused_frames[0] == 0 and plan.diffused_frames[-1] == max_frames - 1
    uniform = set(uniform_frames(max_frames, cadence_count(max_frames, cadence)))
    moved = {k for k in sorted(set(keys))[1:] if k < max_frames}
    if mode == "Additive":
        assert set(plan.diffused_frames) == uniform | moved | {0, max_frames - 1}
    elif mode == "Keyframes Only":
        assert set(plan.diffused_frames) == moved | {0, max_frames - 1}
    elif len(uniform) > 2:
        assert len(plan.diffused_frames) == len(uniform)


@given(parseq=st.lists(st.integers(0, 99), min_size=1, max_size=10))
def test_parseq_keyframes_use_the_strength_schedule(parseq: list[int]) -> None:
    frames = diffused_frames("Keyframes Only", 100, 5, [0, 50], parseq)
    assert {f.frame for f in frames} == set(parseq) | {0}
    assert all(f.strength_key == "strength_schedule" for f in frames)


def test_off_and_other_animation_modes_keep_the_original_plan() -> None:
    assert plan_render(20, "Video Input", 4, "Keyframes Only", [0, 5]).diffused_frames == tuple(range(20))
    assert plan_render(20, "3D", 4, "Off", [0, 5]).diffused_frames == (0, 4, 8, 12, 16)


def test_render_plan_option_prints_the_diffused_frames(capsys: pytest.CaptureFixture[str]) -> None:
    from deforum.cli import main

    assert main(["render", str(FORK), "--plan", "--set", "keyframe_distribution=Additive"]) == 0
    out = capsys.readouterr().out
    plan = settings_plan(fork_settings(keyframe_distribution="Additive"), 0)
    assert out.strip() == plan.describe()
    assert f"{len(plan.diffused_frames)} diffused" in out and "diffuse 20 (cadence; keyframe_strength_schedule)" in out


def test_parseq_keyframes_drive_the_distribution(capsys: pytest.CaptureFixture[str]) -> None:
    from deforum.cli import main

    manifest = DATA / "compat/original/parseq.json"
    assert main(["render", str(FORK), "--plan", "--set", f"parseq_manifest={manifest}"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("11 frames, keyframe distribution 'Keyframes Only': 2 diffused")
    assert "diffuse 10 (last frame, parseq keyframe; strength_schedule) after tweens 1..9 (9)" in out


def test_2d_tweens_are_warped_by_their_own_frame_motion() -> None:
    settings = fork_settings(animation_mode="2D", zoom="0: (1.05)", max_frames=14, angle="0: (0)",
                             translation_x="0: (0)", translation_y="0: (0)")
    sink = MemorySink()
    render(render_inputs(settings, 5), RenderServices(model=PreviewModelService()), sink)
    assert not np.array_equal(sink.frames[0], sink.frames[1])
    assert not np.array_equal(sink.frames[1], sink.frames[2])
    assert sink.order == list(range(14))
