"""The CLIP tokenizer: a vocab.json + merges.txt folder or open_clip's BPE file on disk, else downloaded once."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from deforum.config.fetch import obtain
from deforum.config.weights import WeightsMissing, hf_hub_cache

TOKENIZER_ENV = "DEFORUM_TOKENIZER_DIR"
BPE_FILE = "bpe_simple_vocab_16e6.txt.gz"
HF_CLIP_REPO = "models--openai--clip-vit-large-patch14"
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
CLIP_MERGES = 49152 - 256 - 2
MAX_LENGTH = 77


class TokenizerNotFound(WeightsMissing):
    """No CLIP tokenizer files were found in any of the searched places."""


def byte_symbols() -> list[str]:
    """The 256 printable stand-ins byte-level BPE uses for bytes, in CLIP's vocabulary order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    codes = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return [chr(code) for code in codes]


def clip_vocab(merges: list[tuple[str, str]]) -> dict[str, int]:
    """CLIP's vocabulary from its merges: bytes, bytes with </w>, one token per merge, then BOS and EOS."""
    symbols = byte_symbols()
    tokens = [*symbols, *(s + "</w>" for s in symbols), *("".join(pair) for pair in merges), BOS, EOS]
    return {token: index for index, token in enumerate(tokens)}


def _merge_pairs(lines: list[str]) -> list[tuple[str, str]]:
    """Merge rules from merges.txt lines (the '#version' header and blank lines skipped)."""
    pairs = []
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#version"):
            pairs.append((parts[0], parts[1]))
    return pairs


def _bpe_file_tokens(path: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Vocabulary and merges from open_clip's gzipped BPE file."""
    lines = gzip.open(path, "rt", encoding="utf-8").read().split("\n")
    merges = _merge_pairs(lines[1:CLIP_MERGES + 1])
    return clip_vocab(merges), merges


def _folder_tokens(folder: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Vocabulary and merges from a vocab.json + merges.txt folder, else from its tokenizer.json."""
    if not (folder / "vocab.json").is_file():
        model = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))["model"]
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in model["merges"]]
        return model["vocab"], merges
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    merges = _merge_pairs((folder / "merges.txt").read_text(encoding="utf-8").split("\n"))
    return vocab, merges


def tokenizer_files(candidate: Path) -> Path | None:
    """The tokenizer source at `candidate`: a vocab.json + merges.txt (or tokenizer.json) folder, or a BPE file."""
    if candidate.is_file() and candidate.name.endswith(".txt.gz"):
        return candidate
    if (candidate / "vocab.json").is_file() and (candidate / "merges.txt").is_file():
        return candidate
    if (candidate / "tokenizer.json").is_file():
        return candidate
    if (candidate / BPE_FILE).is_file():
        return candidate / BPE_FILE
    return None


def _hf_cache_dirs() -> list[Path]:
    """Snapshot folders of openai/clip-vit-large-patch14 in the local Hugging Face cache (the WebUI fills it)."""
    roots = [os.environ.get("HF_HUB_CACHE"), os.environ.get("HUGGINGFACE_HUB_CACHE")]
    hf_home = os.environ.get("HF_HOME")
    roots.append(str(Path(hf_home) / "hub") if hf_home else None)
    roots += [str(hf_hub_cache()), str(Path.home() / ".cache" / "huggingface" / "hub")]
    snapshots = []
    for root in dict.fromkeys(r for r in roots if r):
        base = Path(root) / HF_CLIP_REPO / "snapshots"
        if base.is_dir():
            snapshots.extend(sorted(base.iterdir()))
    return snapshots


def _package_bpe_files() -> list[Path]:
    """open_clip's and OpenAI clip's bundled BPE file when those packages are installed (not imported)."""
    found = []
    for package in ("open_clip", "clip"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin:
            found.append(Path(spec.origin).parent / BPE_FILE)
    return found


def candidate_sources(explicit: str | None, models_dir: Path | None, model_folder: Path | None) -> list[Path]:
    """Where a tokenizer is looked for, in order."""
    candidates = [Path(p) for p in (explicit, os.environ.get(TOKENIZER_ENV)) if p]
    if model_folder is not None:
        candidates.append(model_folder / "tokenizer")
    if models_dir is not None:
        candidates.append(models_dir / "Deforum" / "tokenizer")
    return [*candidates, *_hf_cache_dirs(), *_package_bpe_files()]


def find_tokenizer(explicit: str | None = None, models_dir: Path | None = None,
                   model_folder: Path | None = None) -> Path:
    """The first usable tokenizer source, or TokenizerNotFound naming the files to place and where."""
    candidates = candidate_sources(explicit, models_dir, model_folder)
    for candidate in candidates:
        found = tokenizer_files(candidate)
        if found is not None:
            return found
    target = models_dir / "Deforum" / "tokenizer" if models_dir else Path("<models>/Deforum/tokenizer")
    searched = "\n  ".join(str(c) for c in candidates) or "(nothing)"
    raise TokenizerNotFound(
        f"No CLIP tokenizer found. Place vocab.json and merges.txt (the tokenizer files of "
        f"openai/clip-vit-large-patch14) in {target}, or point {TOKENIZER_ENV} at a folder holding them "
        f"(open_clip's {BPE_FILE} works too). Searched:\n  {searched}")


def find_or_download_tokenizer(explicit: str | None = None, models_dir: Path | None = None,
                               model_folder: Path | None = None) -> Path:
    """``find_tokenizer``, downloading openai/clip-vit-large-patch14's tokenizer files when none is on disk."""
    return obtain("clip-tokenizer", lambda: find_tokenizer(explicit, models_dir, model_folder), models_dir)


def load_clip_tokenizer(source: Path, pad_token: str | None = None) -> Any:
    """A transformers CLIPTokenizer from a tokenizer source; `pad_token` '!' for OpenCLIP text encoders."""
    from transformers import CLIPTokenizer

    vocab, merges = _bpe_file_tokens(source) if source.is_file() else _folder_tokens(source)
    kwargs = {"pad_token": pad_token} if pad_token else {}
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=MAX_LENGTH, **kwargs)
