"""KeptModel: the server's one diffusers model, loaded once, switched by a request's checkpoint and switched back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deforum.integrations.services import KeptModel
from deforum.models.generation import GenerationRequest
from deforum.models.settings import Settings

pytest.importorskip("diffusers")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two tiny random SD checkpoints (diffusers folders) with different weights, side by side."""
    from deforum.integrations.diffusers.testing import tiny_pipeline, write_tiny_tokenizer

    base = tmp_path_factory.mktemp("kept")
    tokenizer = write_tiny_tokenizer(base / "tokenizer")
    for name, seed in (("first", 0), ("second", 1)):
        tiny_pipeline(tokenizer, seed=seed).save_pretrained(base / "Stable-diffusion" / name)
    return base / "Stable-diffusion" / "first", base / "Stable-diffusion" / "second"


def request(checkpoint: str | None = None) -> GenerationRequest:
    return GenerationRequest(frame=0, prompt="a cat", negative_prompt="", seed=3, width=64, height=64, steps=3,
                             cfg_scale=7.0, sampler="Euler", checkpoint=checkpoint)


def test_one_model_serves_every_job_and_comes_back_after_a_scheduled_switch(
        checkpoints: tuple[Path, Path]) -> None:
    first, second = checkpoints
    kept = KeptModel(str(first))
    assert kept(Settings()) is kept and kept(Settings().replace(seed=9)) is kept
    service = kept.load()
    own = kept.generate(request()).image
    switched = kept.generate(request("second")).image
    back = kept.generate(request()).image
    assert kept.load() is service
    assert np.abs(own.astype(int) - switched.astype(int)).mean() > 1.0
    assert np.array_equal(own, back)


def test_a_job_naming_a_missing_lora_stops_before_rendering(checkpoints: tuple[Path, Path]) -> None:
    from deforum.integrations.diffusers.lora import LoraNotFound

    kept = KeptModel(str(checkpoints[0]))
    settings = Settings().replace(prompts={"0": "a cat <lora:nowhere:0.8>"})
    with pytest.raises(LoraNotFound, match=r"'nowhere' in prompts\['0'\]"):
        kept(settings)
