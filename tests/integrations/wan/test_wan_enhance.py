"""Optional Qwen prompt enhancement: local folders only, clear errors, editable JSON out."""

from __future__ import annotations

import json

import pytest

from deforum.integrations.wan.enhance import (
    PromptModelMissing,
    enhance_prompts,
    enhanced_prompts_json,
    load_enhancer,
    locate_qwen,
)
from deforum.integrations.wan.testing import write_tiny_qwen


@pytest.fixture
def empty_models(tmp_path, monkeypatch):
    """No models anywhere (working folder, $DEFORUM_MODELS_DIR, Hugging Face cache)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEFORUM_MODELS_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    return tmp_path / "models"


def test_absent_weights_name_the_folder_and_the_download(empty_models):
    with pytest.raises(PromptModelMissing) as err:
        locate_qwen()
    text = str(err.value)
    assert "hf download Qwen/Qwen2.5-3B-Instruct" in text and "Downloads are off" not in text
    assert str(empty_models / "Deforum" / "wan") in text and "hf download Qwen/Qwen2.5-3B-Instruct" in text


def test_vision_models_and_unknown_names_are_refused(empty_models):
    with pytest.raises(PromptModelMissing, match="vision-language"):
        locate_qwen("QwenVL2.5_3B")
    with pytest.raises(ValueError, match="Unknown Qwen model"):
        locate_qwen("GPT")
    with pytest.raises(PromptModelMissing, match="not a transformers model folder"):
        locate_qwen(path=empty_models)


def test_auto_select_finds_a_model_under_either_name(empty_models):
    folder = write_tiny_qwen(empty_models / "wan" / "Qwen2.5_7B")
    assert locate_qwen() == folder
    other = write_tiny_qwen(empty_models / "Deforum" / "wan" / "Qwen2.5-3B-Instruct")
    assert locate_qwen() == other and locate_qwen("Qwen2.5_7B") == folder


def test_prompts_in_enhanced_prompts_out_keeping_negatives():
    enhanced = enhance_prompts({"0": "a cat --neg blur", "30": "a dog"}, lambda text: f"a vivid {text}")
    assert enhanced == {"0": "a vivid a cat --neg blur", "30": "a vivid a dog"}
    assert json.loads(enhanced_prompts_json(enhanced)) == enhanced
    assert enhance_prompts({"0": "a cat"}, lambda text: "") == {"0": "a cat"}


def test_a_local_model_rewrites_each_prompt(empty_models):
    enhancer = load_enhancer(write_tiny_qwen(empty_models / "Qwen"), device="cpu")
    enhancer.max_new_tokens = 6
    out = enhance_prompts({"0": "a cat", "10": "a dog --neg blur"}, enhancer)
    assert set(out) == {"0", "10"} and out["0"] not in ("", "a cat") and out["10"].endswith("--neg blur")
    assert out == enhance_prompts({"0": "a cat", "10": "a dog --neg blur"}, enhancer)
