"""Prompt emphasis, BREAK, 75-token chunks and the tokenizer files (tiny local vocab, nothing downloaded)."""

from __future__ import annotations

import gzip
from pathlib import Path
from types import SimpleNamespace

import pytest

from deforum.integrations.diffusers import tokenizer as tokenizer_module
from deforum.integrations.diffusers.prompts import CHUNK, PromptEncoder, parse_weights, tokenize
from deforum.integrations.diffusers.testing import TINY_MERGES, write_tiny_tokenizer
from deforum.integrations.diffusers.tokenizer import (
    BPE_FILE,
    TOKENIZER_ENV,
    TokenizerNotFound,
    clip_vocab,
    find_tokenizer,
    load_clip_tokenizer,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory):
    return load_clip_tokenizer(write_tiny_tokenizer(tmp_path_factory.mktemp("tok")))


@pytest.mark.parametrize(("text", "parts"), [
    ("a (cat:1.5) dog", [("a ", 1.0), ("cat", 1.5), (" dog", 1.0)]),
    ("(a) [b]", [("a", 1.1), (" ", 1.0), ("b", 1 / 1.1)]),
    ("((c))", [("c", 1.1 * 1.1)]),
    (r"\(literal\)", [("(literal)", 1.0)]),
    ("(unclosed", [("unclosed", 1.1)]),
    ("a ) b ]", [("a ) b ]", 1.0)]),
    ("", [("", 1.0)]),
    ("x BREAK y", [("x", 1.0), (None, 1.0), ("y", 1.0)]),
    ("(a [b] c:1.3)", [("a ", 1.3), ("b", 1.3 / 1.1), (" c", 1.3)]),
])
def test_parse_weights(text: str, parts: list) -> None:
    got = parse_weights(text)
    assert [t for t, _ in got] == [t for t, _ in parts]
    assert [w for _, w in got] == pytest.approx([w for _, w in parts])


def test_short_prompt_is_one_padded_chunk(tokenizer) -> None:
    (chunk,) = tokenize(tokenizer, "a cat")
    assert len(chunk.ids) == CHUNK + 2
    assert chunk.ids[0] == tokenizer.bos_token_id and chunk.ids[-1] == tokenizer.eos_token_id
    assert chunk.ids[1:3] == (320, tokenizer.convert_tokens_to_ids("cat</w>"))


def test_long_prompt_continues_in_a_second_chunk(tokenizer) -> None:
    chunks = tokenize(tokenizer, " ".join(["cat"] * 80))
    assert len(chunks) == 2
    assert chunks[1].ids[1:6] == (chunks[0].ids[1],) * 5


def test_long_prompt_breaks_after_a_recent_comma(tokenizer) -> None:
    chunks = tokenize(tokenizer, " ".join(["cat"] * 70) + ", " + " ".join(["dog"] * 10))
    comma = tokenizer(",", add_special_tokens=False).input_ids[0]
    first = [t for t in chunks[0].ids[1:-1] if t != tokenizer.eos_token_id]
    assert first[-1] == comma and len(first) == 71


def test_break_starts_a_new_chunk_and_weights_follow_tokens(tokenizer) -> None:
    chunks = tokenize(tokenizer, "a BREAK (cat:1.5)")
    assert len(chunks) == 2
    assert chunks[1].weights[1] == pytest.approx(1.5) and chunks[0].weights[1] == 1.0


def test_extra_network_tags_are_dropped(tokenizer) -> None:
    assert tokenize(tokenizer, "a cat <lora:thing:0.8>") == tokenize(tokenizer, "a cat ")


def test_vocab_matches_clip_numbering() -> None:
    vocab = clip_vocab([])
    assert vocab["!"] == 0 and vocab["!</w>"] == 256 and vocab["a</w>"] == 320
    assert clip_vocab(list(TINY_MERGES))["<|endoftext|>"] == 512 + len(TINY_MERGES) + 1


def test_open_clip_bpe_file_gives_the_same_tokens(tmp_path: Path, tokenizer) -> None:
    lines = ["bpe file header", *(" ".join(pair) for pair in TINY_MERGES)]
    with gzip.open(tmp_path / BPE_FILE, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    other = load_clip_tokenizer(find_tokenizer(str(tmp_path)))
    assert other("the red dog").input_ids == tokenizer("the red dog").input_ids


def test_openclip_pad_token(tmp_path: Path) -> None:
    padded = load_clip_tokenizer(write_tiny_tokenizer(tmp_path), pad_token="!")
    assert padded.pad_token_id == 0


def test_tokenizer_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    models = tmp_path / "models"
    write_tiny_tokenizer(models / "Deforum" / "tokenizer")
    assert find_tokenizer(None, models) == models / "Deforum" / "tokenizer"
    monkeypatch.setenv(TOKENIZER_ENV, str(write_tiny_tokenizer(tmp_path / "env")))
    assert find_tokenizer(None, models) == tmp_path / "env"
    snapshot = tmp_path / "hub" / "models--openai--clip-vit-large-patch14" / "snapshots" / "abc"
    write_tiny_tokenizer(snapshot)
    monkeypatch.delenv(TOKENIZER_ENV)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert find_tokenizer(None, tmp_path / "elsewhere") == snapshot


def test_missing_tokenizer_names_the_files_to_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", TOKENIZER_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tokenizer_module, "_package_bpe_files", list)
    with pytest.raises(TokenizerNotFound) as error:
        find_tokenizer(None, tmp_path / "models")
    message = str(error.value)
    assert "vocab.json" in message and "merges.txt" in message and TOKENIZER_ENV in message
    assert str(tmp_path / "models" / "Deforum" / "tokenizer") in message


class FakeEncoder:
    """Hidden states 1, 2, 3 (last) per layer; the final norm doubles its input."""

    def __call__(self, ids, output_hidden_states: bool = True) -> SimpleNamespace:
        """Constant hidden states."""
        import torch

        states = tuple(torch.full((ids.shape[0], ids.shape[1], 4), float(v)) for v in (1, 2, 3))
        return SimpleNamespace(last_hidden_state=states[-1] * 2, hidden_states=states)

    def final_layer_norm(self, x):
        """Doubles."""
        return x * 2


@pytest.mark.parametrize(("skips", "clip_skip", "value"), [(True, 1, 6.0), (True, 2, 4.0), (True, 9, 4.0),
                                                            (False, 2, 6.0)])
def test_clip_skip_applies_to_sd1_text_encoders_only(tokenizer, skips: bool, clip_skip: int, value: float) -> None:
    import torch

    encoder = PromptEncoder((tokenizer,), (FakeEncoder(),), False, "cpu", torch.float32, clip_skip=skips)
    features, _ = encoder.encode("a cat", clip_skip)
    assert features.shape == (1, CHUNK + 2, 4) and float(features.mean()) == pytest.approx(value)
