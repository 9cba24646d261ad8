"""Prompts as the WebUI reads them: (emphasis:1.2), [de-emphasis], BREAK, 75-token chunks, clip skip."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

CHUNK = 75
COMMA_BACKTRACK = 20
ROUND, SQUARE = 1.1, 1 / 1.1
BREAK = None
_WEIGHT = re.compile(r":\s*([+-]?[\d.]+)\s*\)")
_BREAK = re.compile(r"\s*\bBREAK\b\s*")
_EXTRA_NETWORK = re.compile(r"<(?:lora|lyco|hypernet):[^>]*>", re.IGNORECASE)
CACHE_SIZE = 32


def _add_text(parts: list[list], text: str) -> None:
    """Append literal text (split at BREAK) with weight 1."""
    for index, piece in enumerate(_BREAK.split(text)):
        if index:
            parts.append([BREAK, 1.0])
        if piece:
            parts.append([piece, 1.0])


def _scale(parts: list[list], start: int, factor: float) -> None:
    """Multiply the weights of parts[start:] (BREAK markers included, harmlessly)."""
    for part in parts[start:]:
        part[1] *= factor


def _merge(parts: list[list]) -> list[tuple[str | None, float]]:
    """Join neighbouring texts of equal weight; an empty prompt is one empty part."""
    merged: list[list] = []
    for text, weight in parts:
        if merged and text is not BREAK and merged[-1][0] is not BREAK and merged[-1][1] == weight:
            merged[-1][0] += text
        else:
            merged.append([text, weight])
    return [(t, w) for t, w in merged] or [("", 1.0)]


def _weight_close(text: str, i: int) -> tuple[float, int] | None:
    """A ':1.2)' weight closing a round bracket at text[i], as (weight, end)."""
    match = _WEIGHT.match(text, i)
    if match is None:
        return None
    try:
        return float(match.group(1)), match.end()
    except ValueError:
        return None


def parse_weights(text: str) -> list[tuple[str | None, float]]:
    """Split a prompt into (text, weight) parts; a None text is a BREAK."""
    parts: list[list] = []
    rounds: list[int] = []
    squares: list[int] = []
    literal, i = [], 0

    def flush() -> None:
        _add_text(parts, "".join(literal))
        literal.clear()

    while i < len(text):
        ch = text[i]
        closing = _weight_close(text, i) if ch == ":" and rounds else None
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "()[]\\":
            literal.append(text[i + 1])
            i += 1
        elif ch in "([":
            flush()
            (rounds if ch == "(" else squares).append(len(parts))
        elif closing is not None:
            flush()
            _scale(parts, rounds.pop(), closing[0])
            i = closing[1] - 1
        elif (ch == ")" and rounds) or (ch == "]" and squares):
            flush()
            _scale(parts, (rounds if ch == ")" else squares).pop(), ROUND if ch == ")" else SQUARE)
        else:
            literal.append(ch)
        i += 1
    flush()
    for start in rounds:
        _scale(parts, start, ROUND)
    for start in squares:
        _scale(parts, start, SQUARE)
    return _merge(parts)


@dataclass(frozen=True)
class Chunk:
    """One 77-token window: token ids (BOS … EOS padding) and per-token weights."""

    ids: tuple[int, ...]
    weights: tuple[float, ...]


class _ChunkBuilder:
    """Collects tokens into 75-token chunks, breaking after a recent comma as the WebUI does."""

    def __init__(self, bos: int, eos: int, comma: int) -> None:
        self.bos, self.eos, self.comma = bos, eos, comma
        self.chunks: list[Chunk] = []
        self.tokens: list[int] = []
        self.weights: list[float] = []
        self.last_comma = -1

    def close(self) -> None:
        """Pad the current chunk with EOS, wrap it in BOS/EOS and start a new one."""
        pad = CHUNK - len(self.tokens)
        ids = (self.bos, *self.tokens, *([self.eos] * pad), self.eos)
        self.chunks.append(Chunk(ids, (1.0, *self.weights, *([1.0] * pad), 1.0)))
        self.tokens, self.weights, self.last_comma = [], [], -1

    def add(self, token: int, weight: float) -> None:
        """Append one token, closing full chunks (at the last comma when it is near)."""
        if token == self.comma:
            self.last_comma = len(self.tokens)
        elif len(self.tokens) == CHUNK and self.last_comma != -1 \
                and len(self.tokens) - self.last_comma <= COMMA_BACKTRACK:
            cut = self.last_comma + 1
            carry = self.tokens[cut:], self.weights[cut:]
            self.tokens, self.weights = self.tokens[:cut], self.weights[:cut]
            self.close()
            self.tokens, self.weights = list(carry[0]), list(carry[1])
        if len(self.tokens) == CHUNK:
            self.close()
        self.tokens.append(token)
        self.weights.append(weight)


def strip_extra_networks(text: str) -> str:
    """Remove <lora:…>/<hypernet:…> tags (extra networks are not loaded by this service)."""
    stripped = _EXTRA_NETWORK.sub("", text)
    if stripped != text:
        log.info("Deforum diffusers: extra-network tags are ignored in %r", text)
    return stripped


def tokenize(tokenizer: Any, text: str) -> list[Chunk]:
    """A prompt's chunks: emphasis weights per token, BREAK and the 75-token windows."""
    parts = parse_weights(strip_extra_networks(text))
    texts = [t for t, _ in parts if t is not BREAK]
    ids = iter(tokenizer(texts, add_special_tokens=False, verbose=False).input_ids if texts else [])
    comma = tokenizer(",", add_special_tokens=False).input_ids[-1]
    builder = _ChunkBuilder(tokenizer.bos_token_id, tokenizer.eos_token_id, comma)
    for text, weight in parts:
        if text is BREAK:
            builder.close()
            continue
        for token in next(ids):
            builder.add(token, weight)
    if builder.tokens or not builder.chunks:
        builder.close()
    return builder.chunks


@dataclass(frozen=True)
class Conditioning:
    """Text conditioning for one generation (pooled and time ids only for SDXL)."""

    cond: Any
    uncond: Any
    pooled: Any = None
    uncond_pooled: Any = None


class PromptEncoder:
    """Encodes prompts with one (SD1/SD2) or two (SDXL) CLIP text encoders, caching recent prompts."""

    def __init__(self, tokenizers: tuple, encoders: tuple, sdxl: bool, device: Any, dtype: Any,
                 clip_skip: bool = True) -> None:
        self.tokenizers, self.encoders, self.sdxl, self.clip_skip = tokenizers, encoders, sdxl, clip_skip
        self.device, self.dtype = device, dtype
        self._cache: OrderedDict[tuple, tuple] = OrderedDict()

    def _layer(self, encoder: Any, out: Any, clip_skip: int) -> Any:
        """Penultimate hidden states (SDXL), clip-skipped ones with the final norm (SD 1.x), else the last (SD 2.x)."""
        if self.sdxl:
            return out.hidden_states[-2]
        skip = max(1, min(int(clip_skip), len(out.hidden_states) - 1)) if self.clip_skip else 1
        if skip == 1:
            return out.last_hidden_state
        norm = getattr(encoder, "final_layer_norm", None) or encoder.text_model.final_layer_norm
        return norm(out.hidden_states[-skip])

    def _run(self, chunks: list[Chunk], clip_skip: int) -> tuple[Any, Any]:
        """Encode chunks in one batch: (1×77n×D features with emphasis, pooled of the first chunk or None)."""
        import torch

        features, pooled = [], None
        for tokenizer, encoder in zip(self.tokenizers, self.encoders):
            ids = torch.tensor([c.ids for c in chunks], device=self.device)
            if tokenizer.pad_token_id != tokenizer.eos_token_id:
                after_eos = (ids == tokenizer.eos_token_id).int().cumsum(1) > 1
                ids = ids.masked_fill(after_eos, tokenizer.pad_token_id)
            out = encoder(ids, output_hidden_states=True)
            features.append(self._layer(encoder, out, clip_skip))
            if self.sdxl and hasattr(out, "text_embeds"):
                pooled = out.text_embeds[:1]
        z = torch.cat(features, dim=-1)
        weights = torch.tensor([c.weights for c in chunks], device=z.device, dtype=z.dtype)
        mean = z.mean()
        z = z * weights.unsqueeze(-1)
        new_mean = z.mean()
        z = z * torch.where(new_mean != 0, mean / new_mean, torch.ones_like(mean))
        return z.reshape(1, -1, z.shape[-1]).to(self.dtype), pooled

    def encode(self, text: str, clip_skip: int = 1) -> tuple[Any, Any]:
        """(features, pooled) of one prompt, from the cache when recently seen."""
        import torch

        key = (text, int(clip_skip))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        with torch.inference_mode():
            value = self._run(tokenize(self.tokenizers[0], text), clip_skip)
        self._cache[key] = value
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return value

    def forget(self) -> None:
        """Drop cached encodings (the text encoders' weights changed: a LoRA weight or a new embedding)."""
        self._cache.clear()

    def _pad(self, z: Any, chunks: int, clip_skip: int) -> Any:
        """Extend features to `chunks` windows with the empty prompt's encoding, as the WebUI pads uncond/cond."""
        import torch

        have = z.shape[1] // (CHUNK + 2)
        if have >= chunks:
            return z
        empty = self.encode("", clip_skip)[0]
        return torch.cat([z, *([empty] * (chunks - have))], dim=1)

    def conditioning(self, prompt: str, negative: str, clip_skip: int | None) -> Conditioning:
        """Positive and negative conditioning of equal length (SDXL: an empty negative is zeros, as the WebUI)."""
        import torch

        skip = 1 if clip_skip is None else clip_skip
        cond, pooled = self.encode(prompt, skip)
        if self.sdxl and not negative:
            return Conditioning(cond, torch.zeros_like(cond), pooled, torch.zeros_like(pooled))
        uncond, uncond_pooled = self.encode(negative, skip)
        chunks = max(cond.shape[1], uncond.shape[1]) // (CHUNK + 2)
        return Conditioning(self._pad(cond, chunks, skip), self._pad(uncond, chunks, skip), pooled, uncond_pooled)
