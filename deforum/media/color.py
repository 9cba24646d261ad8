"""Colour coherence: histogram-match a frame to a reference in RGB, HSV or LAB, as the original did.

The original kept frames in BGR order but converted them with OpenCV's RGB→HSV/LAB codes, so its HSV and
LAB matching ran on red/blue-swapped colours. On this package's RGB frames the BGR codes give the very same
output, so that is what ``match_color`` uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

COLOR_COHERENCE_MODES = ("None", "HSV", "LAB", "RGB", "Video Input", "Image")
_CONVERSIONS = {
    "HSV": (cv2.COLOR_BGR2HSV, cv2.COLOR_HSV2BGR),
    "LAB": (cv2.COLOR_BGR2LAB, cv2.COLOR_LAB2BGR),
}


@dataclass(frozen=True)
class ColorReference:
    """A colour reference prepared once for matching many frames: its per-channel histograms in one space."""

    space: str
    counts: tuple[np.ndarray, ...]


def _space(mode: str) -> str:
    """The colour space a coherence mode matches in: "RGB", "HSV" or "LAB"."""
    if mode not in COLOR_COHERENCE_MODES or mode == "None":
        raise ValueError(f"color coherence mode must be one of {COLOR_COHERENCE_MODES}, got {mode!r}")
    return "LAB" if mode in ("Image", "Video Input") else mode


def _to_space(image: np.ndarray, space: str) -> np.ndarray:
    """RGB uint8 → the matching space, through OpenCV's BGR codes (the original's channel order)."""
    if space == "RGB":
        return image
    return cv2.cvtColor(image, _CONVERSIONS[space][0])


def _channel_counts(image: np.ndarray) -> tuple[np.ndarray, ...]:
    """256-bin int64 histogram of every channel of a uint8 H×W×C image."""
    if image.dtype != np.uint8 or image.ndim != 3:
        raise TypeError("colour matching expects uint8 H×W×C images")
    return tuple(
        cv2.calcHist([image], [c], None, [256], [0, 256]).ravel().astype(np.int64) for c in range(image.shape[2])
    )


def histogram_match_lut(source_counts: np.ndarray, reference_counts: np.ndarray) -> np.ndarray:
    """256-entry uint8 table mapping source levels to reference levels with matching cumulative shares."""
    reference_levels = np.flatnonzero(reference_counts)
    source_quantiles = np.cumsum(source_counts) / source_counts.sum()
    reference_quantiles = np.cumsum(reference_counts[reference_levels]) / reference_counts.sum()
    return np.interp(source_quantiles, reference_quantiles, reference_levels).astype(np.uint8)


def _apply_match(image: np.ndarray, reference_counts: tuple[np.ndarray, ...]) -> np.ndarray:
    """Map every channel of ``image`` onto the reference histograms."""
    source_counts = _channel_counts(image)
    if len(source_counts) != len(reference_counts):
        raise ValueError("image and reference must have the same channel count")
    tables = [histogram_match_lut(s, r) for s, r in zip(source_counts, reference_counts)]
    return cv2.LUT(image, np.stack(tables, axis=-1).reshape(256, 1, -1)).reshape(image.shape)


def match_histograms(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-channel histogram matching of uint8 H×W×C images (scikit-image's, channel_axis=-1, uint8 output)."""
    return _apply_match(image, _channel_counts(reference))


def prepare_reference(reference: np.ndarray, mode: str) -> ColorReference:
    """Convert and histogram an RGB uint8 reference once, for ``match_color`` on many frames."""
    space = _space(mode)
    return ColorReference(space, _channel_counts(_to_space(reference, space)))


def match_color(image: np.ndarray, reference: np.ndarray | ColorReference, mode: str) -> np.ndarray:
    """Colour-coherence step: match ``image`` to ``reference`` (RGB uint8, or prepared) in the mode's space.

    "None" returns a copy; "RGB" matches raw channels; "HSV" and "LAB" match in those spaces; "Image" and
    "Video Input" match in LAB like the original. legacy_colormatch never changes the matching itself, only
    when the loop matches and refreshes the reference: see ``matches_after_generation`` and
    ``reference_follows_generation``.
    """
    if mode == "None":
        return image.copy()
    if not isinstance(reference, ColorReference):
        reference = prepare_reference(reference, mode)
    space = _space(mode)
    if reference.space != space:
        raise ValueError(f"reference was prepared for {reference.space}, mode {mode!r} matches in {space}")
    matched = _apply_match(_to_space(image, space), reference.counts)
    return matched if space == "RGB" else cv2.cvtColor(matched, _CONVERSIONS[space][1])


def matches_after_generation(
    mode: str, *, frame: int, legacy: bool, has_reference: bool, video_reference: bool = False
) -> bool:
    """Whether a generated frame is colour-matched too (``legacy_colormatch`` matches before generation only).

    Frame 0 is always matched for "Image" (and for "Video Input" when a video reference exists).
    """
    if frame == 0 and (mode == "Image" or (mode == "Video Input" and video_reference)):
        return True
    return has_reference and mode != "None" and not legacy


def reference_follows_generation(mode: str, *, legacy: bool, used_init: bool, strength: float) -> bool:
    """Whether the generated frame becomes the new colour reference.

    Without ``legacy_colormatch`` only frames generated without an init image do; with it, strength-0 frames.
    "Image" and "Video Input" keep their external reference.
    """
    if mode in ("Image", "Video Input"):
        return False
    return (not legacy and not used_init) or (legacy and strength == 0)
