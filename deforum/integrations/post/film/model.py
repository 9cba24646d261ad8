"""FILM inference: load the ``film_net`` TorchScript file and fill each frame pair by recursive midpoints."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from deforum.config.fetch import find_or_download_file
from deforum.config.weights import WeightsFile
from deforum.integrations.post.interpolation import PairInterpolatorBase, film_inbetweens

log = logging.getLogger(__name__)

FILM_WEIGHTS = WeightsFile(
    label="FILM",
    names=("film_net_fp16.pt", "film_net_fp32.pt"),
    subfolders=("Deforum/film_interpolation", "Deforum", "film_interpolation", ""),
    source="https://github.com/hithereai/frame-interpolation-pytorch/releases/download/film_net_fp16.pt/"
           "film_net_fp16.pt (the TorchScript file the original extension downloaded)",
    catalog="film",
)
ALIGN = 64


@dataclass(frozen=True)
class FilmStep:
    """One model call: frame `target` from the known frames `left` and `right` at relative time `dt`."""

    target: int
    left: int
    right: int
    dt: float


def film_plan(count: int) -> list[FilmStep]:
    """The order FILM fills `count` in-betweens: always the frame nearest the middle of a known interval.

    Times are the float32 ``linspace(0, 1, count + 2)``; ties go to the earlier interval, then the earlier frame.
    """
    times = torch.linspace(0, 1, count + 2)
    known, remaining, steps = [0, count + 1], list(range(1, count + 1)), []
    while remaining:
        starts, ends = times[known[:-1]], times[known[1:]]
        distance = ((times[None, remaining] - starts[:, None]) / (ends - starts)[:, None] - 0.5).abs()
        interval, column = divmod(int(torch.argmin(distance)), len(remaining))
        target, left, right = remaining.pop(column), known[interval], known[interval + 1]
        dt = float((times[target] - times[left]) / (times[right] - times[left]))
        steps.append(FilmStep(target, left, right, dt))
        known.insert(interval + 1, target)
    return steps


def last_uses(steps: list[FilmStep]) -> dict[int, int]:
    """For each frame index, the last step that reads it (so it can be dropped afterwards)."""
    last: dict[int, int] = {}
    for number, step in enumerate(steps):
        last[step.left] = last[step.right] = number
    return last


def load_film(*, models_dir: str | None = None, device: str | None = None, half: bool | None = None,
              path: str | os.PathLike[str] | None = None) -> FilmInterpolator:
    """The FILM interpolator from the local TorchScript file (ModelWeightsMissing naming it when absent)."""
    from deforum.config.weights import default_device

    weights = Path(path) if path else find_or_download_file(FILM_WEIGHTS, models_dir)
    target = torch.device(device or default_device())
    use_half = target.type == "cuda" if half is None else half
    log.info("Loading FILM from %s on %s (%s)", weights, target, "fp16" if use_half else "fp32")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.jit", category=FutureWarning)
        model = torch.jit.load(str(weights), map_location=target)
    model = (model.half() if use_half else model.float()).eval()
    return FilmInterpolator(model, device=target, dtype=torch.float16 if use_half else torch.float32)


class FilmInterpolator(PairInterpolatorBase):
    """Calls ``model(x0, x1, dt)`` (B×3×H×W RGB in [0, 1], dt B×1) recursively; frames out ≈ N·x like the original."""

    def __init__(self, model: torch.nn.Module, *, device: torch.device, dtype: torch.dtype) -> None:
        self.model, self.device, self.dtype = model, device, dtype

    def inbetweens(self, total: int, x: int) -> int:
        """round((N·x − N)/(N − 1)) per pair, as the original chose for FILM."""
        return film_inbetweens(total, x)

    @torch.inference_mode()
    def between(self, a: np.ndarray, b: np.ndarray, count: int) -> Iterator[tuple[int, np.ndarray]]:
        """Yield each in-between as soon as it is made (not in time order); only frames still needed are kept."""
        if count < 1:
            return
        height, width = a.shape[:2]
        top, left = (-height % ALIGN) // 2, (-width % ALIGN) // 2
        steps = film_plan(count)
        done_with = last_uses(steps)
        frames = {0: self._tensor(a), count + 1: self._tensor(b)}
        for number, step in enumerate(steps):
            dt = torch.full((1, 1), step.dt, dtype=self.dtype, device=self.device)
            x0, x1 = frames[step.left].to(self.device), frames[step.right].to(self.device)
            made = self.model(x0, x1, dt).clamp(0, 1)
            if done_with.get(step.target, -1) > number:
                frames[step.target] = made.cpu()
            for index in (step.left, step.right):
                if done_with[index] == number:
                    del frames[index]
            crop = made[0, :, top:top + height, left:left + width]
            yield step.target, (crop * 255).to(torch.uint8).permute(1, 2, 0).contiguous().cpu().numpy()

    def _tensor(self, image: np.ndarray) -> torch.Tensor:
        """1×3×H×W in [0, 1] (CPU, model dtype), zero-padded evenly on both sides to multiples of 64."""
        height, width = image.shape[:2]
        pad_h, pad_w = -height % ALIGN, -width % ALIGN
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255.0
        padded = F.pad(tensor, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        return padded.to(self.dtype)
