"""Replay of the original's recorded frames (tools/fidelity/record.py, in a real A1111 v1.10.1).

Our engine renders each scenario's settings with a model that returns, for every frame, the image the
original's img2img returned for that frame. Every image our engine then hands to the model must be the one the
original handed to img2img, bit for bit, with the same seed, strength, steps, sampler and prompts; the .srt cues
must be the original's. Any drift in warping, colour matching, contrast, anti-blur, noise, cadence or schedules
shows up as a differing pixel.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deforum.config.settings_io import load
from deforum.core.engine import RenderServices
from deforum.core.run import run_render
from deforum.core.services import CancelToken
from deforum.media.frames_io import read_image
from deforum.media.srt import SRT_PARAM_CHOICES
from deforum.models.generation import GeneratedImage, GenerationRequest

DATA = Path(__file__).resolve().parent / "data"
SCENARIOS = sorted(p.name for p in DATA.iterdir() if (p / "calls.json").is_file()) if DATA.is_dir() else []
TIMESTRING = "20240101000000"


class ReplayModel:
    """Returns the original's output for each (frame, call) and keeps every request it gets."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: dict[tuple[int, int], GenerationRequest] = {}

    def generate(self, request: GenerationRequest, cancel: CancelToken | None = None) -> GeneratedImage:
        """The recorded output of this frame's next call."""
        call = sum(1 for frame, _ in self.requests if frame == request.frame)
        self.requests[(request.frame, call)] = request
        path = self.folder / f"{request.frame:05}_{call}_out.png"
        if not path.is_file():
            raise AssertionError(f"our engine generated frame {request.frame} (call {call}); the original did not")
        return GeneratedImage(image=read_image(path), seed=request.seed, info="replay")


def _recording(name: str) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    folder = DATA / name
    read = lambda file: json.loads((folder / file).read_text(encoding="utf-8"))  # noqa: E731
    return read("settings.json"), read("calls.json"), read("cues.json")


def _replay(name: str, tmp_path: Path) -> tuple[ReplayModel, list[str]]:
    settings, _, _ = _recording(name)
    model = ReplayModel(DATA / name)
    result = run_render(load(settings), RenderServices(model=model), tmp_path, timestring=TIMESTRING,
                        subtitles=list(SRT_PARAM_CHOICES))
    srt = (result.outdir / f"{TIMESTRING}.srt").read_text(encoding="utf-8")
    cues = ["\n".join(block.splitlines()[2:]) for block in srt.split("\n\n") if block.strip()]
    return model, cues


def _differing(ours: np.ndarray, theirs: np.ndarray) -> str:
    if ours.shape != theirs.shape:
        return f"shape {ours.shape} vs {theirs.shape}"
    diff = np.abs(ours.astype(int) - theirs.astype(int))
    return f"{int((diff > 0).sum())} values differ, by up to {int(diff.max())}"


def test_the_recordings_are_there() -> None:
    assert len(SCENARIOS) >= 5, f"run tools/fidelity/record.py: only {SCENARIOS} in {DATA}"


@pytest.mark.parametrize("name", SCENARIOS)
def test_our_engine_hands_img2img_the_originals_images(name: str, tmp_path: Path) -> None:
    model, _ = _replay(name, tmp_path)
    _, calls, _ = _recording(name)
    recorded = {(call["frame"], int(call["stem"].rsplit("_", 1)[1])): call for call in calls}
    assert sorted(model.requests) == sorted(recorded), "the frames sent to the model differ from the original's"
    for key, call in sorted(recorded.items()):
        request = model.requests[key]
        assert (request.init_image is not None) == call["has_init"], f"frame {key}: img2img vs txt2img"
        if call["has_init"]:
            theirs = read_image(DATA / name / f"{call['stem']}_in.png")
            assert np.array_equal(request.init_image, theirs), f"frame {key}: {_differing(request.init_image, theirs)}"
        if call["kind"] == "process_images":
            ours = (request.seed, request.steps, request.sampler, request.prompt, request.negative_prompt)
            theirs_params = (call["seed"], call["steps"], call["sampler_name"], call["prompt"].strip(),
                             call["negative_prompt"].strip())
            assert ours == theirs_params, f"frame {key}"
            if call["has_init"]:
                assert request.denoising_strength == pytest.approx(call["denoising_strength"], abs=1e-9)


@pytest.mark.parametrize("name", SCENARIOS)
def test_our_srt_cues_are_the_originals(name: str, tmp_path: Path) -> None:
    _, cues = _replay(name, tmp_path)
    settings, _, theirs = _recording(name)
    assert len(cues) == settings["max_frames"]  # with cadence the original lost the last frames (compatibility.md)
    for frame, original in enumerate(theirs):
        assert cues[frame] == original, f"frame {frame}"
