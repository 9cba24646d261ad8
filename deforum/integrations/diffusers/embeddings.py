"""Textual-inversion embeddings by name in prompts, from the WebUI's embeddings/ folder (A1111's file formats).

As in A1111, a word of the prompt (or negative prompt) that is the name of a file in embeddings/ stands for that
file's vectors. Each embedding is loaded once: its vectors become new tokens of the tokenizer and new rows of the
text encoders' token tables, and the name is written as those tokens before tokenizing.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from deforum.config.weights import models_roots

log = logging.getLogger(__name__)

EMBEDDING_SUFFIXES = (".pt", ".safetensors", ".bin")
SDXL_KEYS = ("clip_l", "clip_g")


def embedding_folders(models_dirs: tuple[Path, ...] = (),
                      models_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The WebUI's embeddings/ next to each models folder, then embeddings/ inside it."""
    roots = dict.fromkeys([*models_dirs, *models_roots(models_dir)])
    return list(dict.fromkeys(folder for root in roots for folder in (root.parent / "embeddings", root / "embeddings")))


def read_embedding(path: Path) -> dict[str, Any]:
    """An embedding's vectors (n×D float tensors): {"": v} for SD 1.x/2.x, {"clip_l": v, "clip_g": v} for SDXL."""
    from deforum.integrations.diffusers.loading import read_state_dict

    data = read_state_dict(path)
    if isinstance(data.get("string_to_param"), dict) and data["string_to_param"]:
        vectors = {"": next(iter(data["string_to_param"].values()))}
    elif all(key in data for key in SDXL_KEYS):
        vectors = {key: data[key] for key in SDXL_KEYS}
    elif len(data) == 1 and hasattr(next(iter(data.values())), "shape"):
        vectors = {"": next(iter(data.values()))}
    else:
        raise ValueError(f"embedding {path} is not in a format A1111 reads (string_to_param, clip_l/clip_g, or one "
                         f"tensor); its keys: {', '.join(list(data)[:5])}")
    return {key: (v.unsqueeze(0) if v.dim() == 1 else v).detach().float() for key, v in vectors.items()}


def _vectors_for(vectors: dict[str, Any], encoders: tuple) -> list[Any] | None:
    """One n×D tensor per text encoder, or None when the embedding was made for another model family."""
    chosen = [vectors.get(SDXL_KEYS[i]) for i in range(len(encoders))] if len(encoders) == 2 else [vectors.get("")]
    widths = [int(encoder.get_input_embeddings().weight.shape[1]) for encoder in encoders]
    if any(v is None or v.shape[1] != width for v, width in zip(chosen, widths)) or \
            len({int(v.shape[0]) for v in chosen}) != 1:
        return None
    return chosen


class Embeddings:
    """The embeddings of one loaded model: finds names in prompts, loads each file once, rewrites names as tokens."""

    def __init__(self, parts: Any, folders: list[Path]) -> None:
        self.parts, self.folders = parts, folders
        self._files: dict[str, Path] | None = None
        self._tokens: dict[str, str] = {}
        self._skipped: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    @property
    def files(self) -> dict[str, Path]:
        """Embedding name (lower case) → file, first folder wins; read once."""
        if self._files is None:
            found: dict[str, Path] = {}
            for folder in self.folders:
                paths = sorted(folder.rglob("*")) if folder.is_dir() else []
                for path in paths:
                    if path.suffix.lower() in EMBEDDING_SUFFIXES and path.is_file():
                        found.setdefault(path.stem.lower(), path)
            self._files = found
            names = sorted(found, key=len, reverse=True)
            self._pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])",
                                       re.IGNORECASE) if names else None
        return self._files

    def expand(self, text: str) -> tuple[str, bool]:
        """`text` with embedding names written as their tokens, and whether a new embedding was loaded."""
        if not self.files or self._pattern is None:
            return text, False
        loaded = False

        def replace(match: re.Match[str]) -> str:
            nonlocal loaded
            name = match.group(1).lower()
            if name not in self._tokens and name not in self._skipped:
                loaded = self._load(name) or loaded
            return self._tokens.get(name, match.group(1))

        return self._pattern.sub(replace, text), loaded

    def _load(self, name: str) -> bool:
        """Add the embedding's vectors as tokens; False (logged once) when it does not fit this model."""
        path = self.files[name]
        vectors = _vectors_for(read_embedding(path), self.parts.text_encoders)
        if vectors is None:
            self._skipped.add(name)
            log.warning("Deforum diffusers: embedding %s does not fit %s (made for another model family); the word "
                        "%r stays plain text", path, self.parts.name, name)
            return False
        tokens = [f"<emb{len(self._tokens)}_{k}>" for k in range(int(vectors[0].shape[0]))]
        tokenizer = self.parts.tokenizers[0]
        tokenizer.add_tokens(tokens)
        ids = tokenizer.convert_tokens_to_ids(tokens)
        for encoder, rows in zip(self.parts.text_encoders, vectors):
            if encoder.get_input_embeddings().weight.shape[0] < len(tokenizer):
                encoder.resize_token_embeddings(len(tokenizer))
            table = encoder.get_input_embeddings().weight
            table.data[ids] = rows.to(table.device, table.dtype)
        self._tokens[name] = " ".join(tokens)
        log.info("Deforum diffusers: embedding %s (%d vectors) from %s", name, len(tokens), path)
        return True
