"""CLIPSeg word masks: a tiny random-weight model from a local folder; missing weights are a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deforum.config.settings_io import load
from deforum.core.mask_compose import compose_mask
from deforum.core.masking import uses_word_masks
from deforum.integrations.features.clipseg import ClipSegMissing, load_word_masker, locate_clipseg
from tests.conftest import DATA

transformers = pytest.importorskip("transformers")


def tiny_clipseg(models: Path) -> Path:
    """A random-weight CLIPSeg with a tiny CLIP tokenizer, saved as <models>/Deforum/clipseg-rd64-refined."""
    from deforum.integrations.diffusers.testing import write_tiny_tokenizer

    folder = models / "Deforum" / "clipseg-rd64-refined"
    tokenizer = transformers.CLIPTokenizer.from_pretrained(write_tiny_tokenizer(models / "tok"))
    config = transformers.CLIPSegConfig(
        text_config=dict(vocab_size=tokenizer.vocab_size, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=77),
        vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
                           image_size=32, patch_size=8),
        projection_dim=16, reduce_dim=8, extract_layers=[0, 1], decoder_num_attention_heads=2,
        decoder_intermediate_size=16)
    image_processor = transformers.ViTImageProcessor(size={"height": 32, "width": 32})  # as CIDAS/clipseg-rd64
    transformers.CLIPSegForImageSegmentation(config).save_pretrained(folder)
    transformers.CLIPSegProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def test_word_masks_come_from_the_local_model(tmp_path: Path) -> None:
    folder = tiny_clipseg(tmp_path / "models")
    assert locate_clipseg(tmp_path / "models") == folder
    masker = load_word_masker(tmp_path / "models")
    image = np.random.default_rng(0).integers(0, 255, (40, 48, 3), dtype=np.uint8)
    mask = masker(image, "a cat")
    assert mask.shape == (40, 48) and mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
    composed = compose_mask("<a cat> | !<a cat>", {}, (48, 40), image=image, word_masker=masker)
    assert composed.min() == 255


def test_missing_clipseg_names_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("DEFORUM_MODELS_DIR", raising=False)
    with pytest.raises(ClipSegMissing, match="Deforum/clipseg-rd64-refined"):
        locate_clipseg(tmp_path / "nothing")


def test_word_operands_in_mask_schedules_are_detected() -> None:
    settings = load(DATA / "compat/original/default_settings.txt")
    assert not uses_word_masks(settings.replace(use_mask=True))
    assert uses_word_masks(settings.replace(use_mask=True, mask_schedule='0: ("{video_mask} & <a cat>")'))
    assert not uses_word_masks(settings.replace(use_mask=False, mask_schedule='0: ("<a cat>")'))


def test_a_missing_clipseg_is_downloaded_from_the_hub_on_first_use(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.loopback_hosts import LoopbackHosts

    staged = tiny_clipseg(tmp_path / "staging")
    with LoopbackHosts() as hub:
        hub.add_repo("CIDAS/clipseg-rd64-refined", staged)
        monkeypatch.setenv("DEFORUM_OFFLINE", "0")
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
        monkeypatch.delenv("DEFORUM_MODELS_DIR", raising=False)
        masker = load_word_masker(tmp_path / "empty")
    image = np.random.default_rng(1).integers(0, 255, (24, 40, 3), dtype=np.uint8)
    assert masker(image, "a cat").shape == (24, 40)
    assert (tmp_path / "hub" / "models--CIDAS--clipseg-rd64-refined" / "snapshots").is_dir()
