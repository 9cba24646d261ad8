"""RIFE v4.6 inference: find and load ``RIFE46.pkl`` / ``flownet.pkl``, then interpolate frame pairs."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from deforum.config.fetch import find_or_download_file
from deforum.config.weights import WeightsFile, checked_state, default_device
from deforum.integrations.post.interpolation import PairInterpolatorBase
from deforum.integrations.post.rife.network import IFNet

log = logging.getLogger(__name__)

RIFE_WEIGHTS = WeightsFile(
    label="RIFE v4.6",
    names=("RIFE46.pkl", "flownet.pkl"),
    subfolders=("Deforum", "Deforum/RIFE46", "Deforum/rife", ""),
    source="https://github.com/hithereai/Practical-RIFE/releases/download/rife46/RIFE46.pkl "
           "(the file the original extension downloaded; Practical-RIFE v4.6's train_log/flownet.pkl is the same "
           "network)",
    catalog="rife",
)
PAD_MULTIPLE = 128
SSIM_SIZE = 32
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SCENE_CUT_SSIM = 0.2
DEFAULT_BATCH = 4




def load_ifnet(path: str | os.PathLike[str]) -> IFNet:
    """An IFNet with the weights of a RIFE v4.6 state-dict file (``module.`` prefixes stripped)."""
    state = checked_state(torch.load(str(path), map_location="cpu", weights_only=True), path)
    if isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    state = {key.removeprefix("module."): value for key, value in state.items()}
    net = IFNet()
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing:
        raise ValueError(f"{path} is not a RIFE v4.6 flownet: {len(missing)} weights missing "
                         f"(e.g. {missing[0]}). Use RIFE46.pkl or Practical-RIFE v4.6's flownet.pkl.")
    if unexpected:
        log.warning("%s: ignoring %d unknown weights (e.g. %s).", path, len(unexpected), unexpected[0])
    return net.eval()


def load_rife(*, models_dir: str | None = None, device: str | None = None, half: bool | None = None,
              path: str | os.PathLike[str] | None = None) -> RifeInterpolator:
    """The RIFE v4.6 interpolator from local (or first-use downloaded) weights."""
    weights = Path(path) if path else find_or_download_file(RIFE_WEIGHTS, models_dir)
    log.info("Loading RIFE v4.6 from %s", weights)
    return RifeInterpolator(load_ifnet(weights), device=device, half=bool(half))


class RifeInterpolator(PairInterpolatorBase):
    """In-betweens at t = k/(n+1) from one IFNet pass each; a scene cut (SSIM < 0.2) repeats the first frame."""

    def __init__(self, net: IFNet, *, device: str | None = None, half: bool = False,
                 batch_size: int = DEFAULT_BATCH, scale: float = 1.0) -> None:
        self.device = torch.device(device or default_device())
        self.dtype = torch.float16 if half else torch.float32
        self.net = net.to(self.device, self.dtype).eval()
        self.batch_size, self.scale = max(int(batch_size), 1), scale
        self._window = _gaussian_window_3d(SSIM_WINDOW, SSIM_SIGMA).to(self.device)

    @torch.inference_mode()
    def between(self, a: np.ndarray, b: np.ndarray, count: int) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (k, frame) for k = 1..count, in order."""
        if count < 1:
            return
        height, width = a.shape[:2]
        img0, img1 = self._tensor(a), self._tensor(b)
        if _volumetric_ssim(_small(img0, height, width), _small(img1, height, width), self._window) < SCENE_CUT_SSIM:
            yield from ((k, a.copy()) for k in range(1, count + 1))
            return
        for start in range(1, count + 1, self.batch_size):
            ks = list(range(start, min(start + self.batch_size, count + 1)))
            times = torch.tensor([k / (count + 1) for k in ks], device=self.device, dtype=self.dtype)
            out = self.net(img0.expand(len(ks), -1, -1, -1), img1.expand(len(ks), -1, -1, -1), times,
                           scales=[s / self.scale for s in (8.0, 4.0, 2.0, 1.0)])
            frames = (out[:, :, :height, :width].clamp(0, 1) * 255).to(torch.uint8)
            frames = frames.permute(0, 2, 3, 1).contiguous().cpu()
            yield from zip(ks, frames.numpy())

    def _tensor(self, image: np.ndarray) -> torch.Tensor:
        """1×3×H×W in [0, 1], zero-padded right and bottom to multiples of 128 (256 at scale 0.5)."""
        tensor = torch.from_numpy(np.ascontiguousarray(image)).to(self.device).permute(2, 0, 1)[None]
        multiple = max(PAD_MULTIPLE, int(PAD_MULTIPLE / self.scale))
        height, width = image.shape[:2]
        pad = (0, -width % multiple, 0, -height % multiple)
        return F.pad(tensor.to(self.dtype) / 255.0, pad)


def _small(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The frame (without its padding) shrunk to 32×32, float32, for the scene-cut check."""
    return F.interpolate(image[:, :, :height, :width].float(), (SSIM_SIZE, SSIM_SIZE), mode="bilinear",
                         align_corners=False)


def _gaussian_window_3d(size: int, sigma: float) -> torch.Tensor:
    """A normalised size³ Gaussian kernel shaped 1×1×size×size×size for conv3d."""
    offsets = torch.arange(size, dtype=torch.float32) - size // 2
    line = torch.exp(-(offsets**2) / (2 * sigma**2))
    line = line / line.sum()
    return (line[:, None, None] * line[None, :, None] * line[None, None, :])[None, None]


def _volumetric_ssim(x: torch.Tensor, y: torch.Tensor, window: torch.Tensor) -> float:
    """Mean SSIM of two B×C×H×W images in [0, 1] treated as C×H×W volumes (replicate-padded Gaussian stats)."""
    pad = window.shape[-1] // 2

    def blur(volume: torch.Tensor) -> torch.Tensor:
        """Gaussian-weighted local mean over channels, rows and columns."""
        return F.conv3d(F.pad(volume.unsqueeze(1), (pad,) * 6, mode="replicate"), window)

    mu_x, mu_y = blur(x), blur(y)
    var_x, var_y = blur(x * x) - mu_x**2, blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    ssim = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return float(ssim.mean())
