"""Human masks for hybrid video: Robust Video Matting (ResNet-50) from a local ``rvm_resnet50.pth``.

``HumanMatting.alphas`` mattes a frame sequence; ``media.human_masks`` writes the files. A missing weights file is
downloaded on first use (``config.fetch``); offline it is a clear error naming it and where to put it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import torch

from deforum.config.fetch import find_or_download_file
from deforum.config.weights import WeightsFile, default_device

if TYPE_CHECKING:
    from deforum.integrations.features.matting.network import MattingNetwork

log = logging.getLogger(__name__)

RVM_WEIGHTS = WeightsFile(
    label="Robust Video Matting (ResNet-50)",
    names=("rvm_resnet50.pth",),
    subfolders=("Deforum", "Deforum/rvm", "RobustVideoMatting", ""),
    source="https://github.com/PeterL1n/RobustVideoMatting/releases/download/v1.0.0/rvm_resnet50.pth (the "
           "weights the original loaded through torch.hub from hithereai/RobustVideoMatting)",
    catalog="rvm",
)
WORK_SIDE = 512


def auto_downsample_ratio(height: int, width: int) -> float:
    """RVM's working scale: the longer side brought down to 512 pixels, never up."""
    return min(WORK_SIDE / max(height, width), 1.0)


class HumanMatting:
    """Alpha mattes of people in a frame sequence (the network remembers earlier frames)."""

    def __init__(self, network: MattingNetwork, device: str | None = None) -> None:
        self.device = torch.device(device or default_device())
        self.network = network.to(self.device).eval()

    @torch.inference_mode()
    def alphas(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """H×W uint8 alpha of each RGB uint8 frame, in order (the scale is set by the first frame)."""
        states: tuple[torch.Tensor | None, ...] = (None, None, None, None)
        ratio: float | None = None
        for frame in frames:
            ratio = ratio or auto_downsample_ratio(*frame.shape[:2])
            pixels = torch.from_numpy(np.require(frame, np.uint8, ["C", "W"]))
            src = pixels.to(self.device).permute(2, 0, 1)[None].float() / 255
            _, alpha, states = self.network(src, states, ratio)
            yield alpha[0, 0].mul(255).to(torch.uint8).cpu().numpy()


def load_network(path: str | os.PathLike[str]) -> MattingNetwork:
    """An RVM ResNet-50 with the weights of ``rvm_resnet50.pth``; another file is a clear error."""
    from deforum.integrations.features.matting.network import MattingNetwork  # torchvision: only when matting is used

    state = torch.load(str(path), map_location="cpu", weights_only=True)
    network = MattingNetwork()
    missing, unexpected = network.load_state_dict(state, strict=False)
    if missing or unexpected:
        example = (missing or unexpected)[0]
        raise ValueError(f"{path} is not Robust Video Matting's ResNet-50 weights ({len(missing)} missing, "
                         f"{len(unexpected)} unexpected, e.g. {example}); use rvm_resnet50.pth.")
    return network


def load_human_matting(models_dir: str | os.PathLike[str] | None = None, *,
                       device: str | None = None) -> HumanMatting:
    """RVM from local weights (ModelWeightsMissing naming the file and where to put it when absent)."""
    weights = find_or_download_file(RVM_WEIGHTS, models_dir)
    log.info("Loading Robust Video Matting from %s", weights)
    return HumanMatting(load_network(weights), device=device)

