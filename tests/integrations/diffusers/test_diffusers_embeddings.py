"""Textual-inversion embeddings by name on the diffusers service: tiny pipelines, tiny embeddings in A1111 formats."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from deforum.integrations.diffusers.embeddings import read_embedding
from deforum.integrations.diffusers.service import DiffusersModelService
from deforum.integrations.diffusers.testing import tiny_pipeline, write_tiny_tokenizer
from deforum.models.generation import GenerationRequest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_tokenizer(tmp_path_factory.mktemp("tokenizer"))


def rows(pipe, encoder, words: str):
    """The token-table rows of `words` (no BOS/EOS): an embedding that spells these words."""
    ids = pipe.tokenizer(words, add_special_tokens=False).input_ids
    return encoder.get_input_embeddings().weight[ids].detach().clone()


def render(service: DiffusersModelService, prompt: str, negative: str = "") -> np.ndarray:
    import torch

    torch.set_num_threads(1)
    return service.generate(GenerationRequest(frame=0, prompt=prompt, negative_prompt=negative, seed=3, width=64,
                                              height=64, steps=3, cfg_scale=7.0, sampler="Euler")).image


def test_a1111_pt_and_safetensors_embeddings_stand_for_their_vectors(tmp_path: Path, tokenizer: Path) -> None:
    import torch
    from safetensors.torch import save_file

    pipe = tiny_pipeline(tokenizer)
    webui = tmp_path / "webui"
    folder = webui / "embeddings"
    folder.mkdir(parents=True)
    torch.save({"string_to_token": {"*": 265}, "string_to_param": {"*": rows(pipe, pipe.text_encoder, "red cat")},
                "name": "MyStyle", "step": 100}, folder / "MyStyle.pt")
    (folder / "sub").mkdir()
    save_file({"emb_params": rows(pipe, pipe.text_encoder, "dog")}, str(folder / "sub" / "pet.safetensors"))
    service = DiffusersModelService.from_pipeline(pipe, models_dir=webui / "models")
    assert render(service, "a mystyle").tobytes() == render(service, "a red cat").tobytes()
    assert render(service, "a pet, (MyStyle:1.2)").tobytes() == render(service, "a dog, (red cat:1.2)").tobytes()
    assert render(service, "a cat", "pet").tobytes() == render(service, "a cat", "dog").tobytes()
    assert not np.array_equal(render(service, "a mystyle"), render(service, "a dog"))
    assert service.embeddings.expand("a mystyles, mystyle-x") == ("a mystyles, mystyle-x", False)
    assert sorted(service.embeddings.files) == ["mystyle", "pet"]


def test_sdxl_embedding_sets_both_text_encoders(tmp_path: Path, tokenizer: Path) -> None:
    from safetensors.torch import save_file

    pipe = tiny_pipeline(tokenizer, sdxl=True)
    folder = tmp_path / "embeddings"
    folder.mkdir()
    vectors = {"clip_l": rows(pipe, pipe.text_encoder, "red dog"), "clip_g": rows(pipe, pipe.text_encoder_2, "red dog")}
    save_file(vectors, str(folder / "xlstyle.safetensors"))
    assert {k: tuple(v.shape) for k, v in read_embedding(folder / "xlstyle.safetensors").items()} == \
        {"clip_l": (2, 32), "clip_g": (2, 48)}
    service = DiffusersModelService.from_pipeline(pipe, models_dir=tmp_path / "models")
    assert render(service, "the xlstyle").tobytes() == render(service, "the red dog").tobytes()


def test_embedding_of_another_family_stays_plain_text(tmp_path: Path, tokenizer: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    import torch

    pipe = tiny_pipeline(tokenizer)
    folder = tmp_path / "embeddings"
    folder.mkdir()
    torch.save({"string_to_param": {"*": torch.zeros(2, 768)}}, folder / "wide.pt")
    service = DiffusersModelService.from_pipeline(pipe, models_dir=tmp_path / "models")
    with caplog.at_level(logging.WARNING):
        assert service.embeddings.expand("a wide cat") == ("a wide cat", False)
    assert "does not fit" in caplog.text and "wide.pt" in caplog.text
