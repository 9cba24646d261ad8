"""Evaluating a composable mask expression over named masks, mask files and CLIPSeg word masks.

Every operand is made boolean as the original did (PIL mode "1": greys are dithered); a name mapped to None is all
black; {everywhere} is all white unless given; empty text means {everywhere}. ``[file]`` masks get the mask
brightness/contrast adjustments; ``<words>`` need a word masker (CLIPSeg), called as masker(image, words).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from deforum.media.frames_io import ImageSourceError
from deforum.media.masks import Size, as_mask, binarize_mask, load_mask_file
from deforum.prompt.mask_expressions import (
    EVERYWHERE,
    Invert,
    MaskExpressionError,
    MaskNode,
    Operand,
    WordMasker,
    clipseg_message,
    parse_mask_expression,
    unknown_name,
)

__all__ = ["compose_mask"]


@dataclass
class _Context:
    """What evaluating one expression needs, and the operands already turned into boolean arrays."""

    named: Mapping[str, np.ndarray | None]
    size: Size
    image: np.ndarray | None
    adjust: tuple[float, float]
    word_masker: WordMasker | None
    cache: dict[tuple[str, str], np.ndarray]


def compose_mask(expression: str, named: Mapping[str, np.ndarray | None], size: tuple[int, int], *,
                 image: np.ndarray | None = None, brightness: float = 1.0, contrast: float = 1.0,
                 word_masker: WordMasker | None = None) -> np.ndarray:
    """Evaluate a mask expression over named masks at size (w, h) → H×W uint8 mask (0 or 255)."""
    tree = parse_mask_expression(expression)
    context = _Context(named, (int(size[0]), int(size[1])), image, (brightness, contrast), word_masker, {})
    return _evaluate(tree, context).astype(np.uint8) * np.uint8(255)


def _evaluate(node: MaskNode, context: _Context) -> np.ndarray:
    """Boolean H×W array of a node."""
    if isinstance(node, Operand):
        key = (node.kind, node.text)
        if key not in context.cache:
            context.cache[key] = _operand(node, context)
        return context.cache[key]
    if isinstance(node, Invert):
        return ~_evaluate(node.operand, context)
    left, right = _evaluate(node.left, context), _evaluate(node.right, context)
    if node.op == "&":
        return left & right
    if node.op == "|":
        return left | right
    if node.op == "^":
        return left ^ right
    return left & ~right


def _operand(item: Operand, context: _Context) -> np.ndarray:
    """Boolean H×W array of a named, file or word mask."""
    width, height = context.size
    if item.kind == "name":
        if item.text not in context.named:
            if item.text == EVERYWHERE:
                return np.ones((height, width), dtype=bool)
            raise unknown_name(item, {*context.named, EVERYWHERE})
        value = context.named[item.text]
        return np.zeros((height, width), dtype=bool) if value is None else binarize_mask(as_mask(value, context.size))
    if item.kind == "file":
        return binarize_mask(_file_mask(item, context))
    return binarize_mask(as_mask(_word_mask(item, context), context.size))


def _file_mask(item: Operand, context: _Context) -> np.ndarray:
    """A ``[file]`` operand loaded and adjusted; load failures name the operand's position."""
    brightness, contrast = context.adjust
    try:
        return load_mask_file(item.text, context.size, brightness=brightness, contrast=contrast,
                              setting="mask schedule file")
    except (ImageSourceError, OSError, ValueError) as exc:
        raise MaskExpressionError(f"the file mask [{item.text:.80}] cannot be loaded: {exc}", position=item.position,
                                  fix="use a local image file path") from exc


def _word_mask(item: Operand, context: _Context) -> np.ndarray:
    """A ``<words>`` operand from the word masker; without one, the CLIPSeg error."""
    if context.word_masker is None:
        raise MaskExpressionError(clipseg_message(item.text), position=item.position,
                                  fix="install the CLIPSeg weights, or use {name} and [file] masks")
    if context.image is None:
        raise MaskExpressionError(f"the word mask <{item.text:.40}> needs the frame image", position=item.position,
                                  fix="word masks work on frames that have an init image")
    return context.word_masker(context.image, item.text)
