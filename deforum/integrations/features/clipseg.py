"""Word masks (`<words>` in mask schedules) with CLIPSeg through transformers (downloaded on first use)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from deforum.config.fetch import obtain
from deforum.config.weights import WeightsMissing, hf_hub_cache, models_roots

log = logging.getLogger(__name__)

MODEL_FOLDER = "clipseg-rd64-refined"
REPO_ID = "CIDAS/clipseg-rd64-refined"
OTSU_FLOOR = 32


class ClipSegMissing(WeightsMissing):
    """The CLIPSeg model folder is not on disk."""


def _candidates(models_dir: str | os.PathLike[str] | None) -> list[Path]:
    """Folders searched for the transformers-format CLIPSeg model, in order."""
    folders = [root / sub / name for root in models_roots(models_dir) for sub in ("Deforum", "")
               for name in (MODEL_FOLDER, REPO_ID.replace("/", "--"), "clipseg")]
    hub = hf_hub_cache()
    snapshots = hub / f"models--{REPO_ID.replace('/', '--')}" / "snapshots"
    folders += sorted(snapshots.iterdir()) if snapshots.is_dir() else []
    return folders


def locate_clipseg(models_dir: str | os.PathLike[str] | None = None) -> Path:
    """The CLIPSeg folder (config.json + weights + processor files), or ClipSegMissing naming where to put it."""
    searched = _candidates(models_dir)
    for folder in searched:
        if (folder / "config.json").is_file():
            return folder
    raise ClipSegMissing(
        f"Word masks need the CLIPSeg model {REPO_ID} in transformers format (config.json, model.safetensors, "
        f"preprocessor_config.json, vocab.json, merges.txt, tokenizer_config.json). Put it in "
        f"<models>/Deforum/{MODEL_FOLDER}/ (models = --models-dir, $DEFORUM_MODELS_DIR or ./models). "
        f"Searched: {', '.join(str(p) for p in searched[:6])}.")


class ClipSegMasker:
    """`masker(image, words) -> H×W uint8 mask`: CLIPSeg's prediction, sigmoid, bicubic resize, Otsu threshold."""

    def __init__(self, folder: Path, device: str = "cpu") -> None:
        from transformers import CLIPSegForImageSegmentation, CLIPSegProcessor

        self.processor = CLIPSegProcessor.from_pretrained(folder)
        self.model = CLIPSegForImageSegmentation.from_pretrained(folder).to(device).eval()
        self.device = device

    def __call__(self, image: np.ndarray, words: str) -> np.ndarray:
        """The mask of `words` in an RGB uint8 image, at the image's size."""
        import cv2
        import torch

        inputs = self.processor(text=[words], images=[image], return_tensors="pt", padding=True).to(self.device)
        with torch.no_grad():
            logits = self.model(**inputs).logits.reshape(1, 1, *inputs["pixel_values"].shape[-2:])
        prob = torch.nn.functional.interpolate(torch.sigmoid(logits), size=image.shape[:2], mode="bicubic")
        grey = (prob.clamp(0, 1).squeeze().cpu().numpy() * 255).astype(np.uint8)
        return cv2.threshold(grey, OTSU_FLOOR, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]


def load_word_masker(models_dir: str | os.PathLike[str] | None = None, device: str = "cpu") -> ClipSegMasker:
    """The CLIPSeg word masker from local weights, downloaded into the Hugging Face cache when absent."""
    folder = obtain("clipseg", lambda: locate_clipseg(models_dir), models_dir)
    log.info("Word masks with CLIPSeg from %s", folder)
    return ClipSegMasker(folder, device)
