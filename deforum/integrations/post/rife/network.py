"""RIFE v4.6 IFNet: four coarse-to-fine flow blocks, backward warping and a sigmoid blend mask.

Module names follow the published ``flownet.pkl`` / ``RIFE46.pkl`` state dict (``block0.conv0.0.0.weight`` …,
saved with a ``module.`` prefix), so the real weights load as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

BLOCK_WIDTHS = (192, 128, 96, 64)
FIRST_BLOCK_INPUTS = 7
LATER_BLOCK_INPUTS = 12
RES_CONVS = 8
SLOPE = 0.2
SCALES = (8.0, 4.0, 2.0, 1.0)


def _conv_act(in_ch: int, out_ch: int, stride: int) -> nn.Sequential:
    """3×3 convolution (with bias) then LeakyReLU(0.2)."""
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, stride, 1), nn.LeakyReLU(SLOPE, inplace=True))


class ResConv(nn.Module):
    """Residual 3×3 convolution with a learnt per-channel gain: ``lrelu(conv(x)·beta + x)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 1, 1)
        self.beta = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.relu = nn.LeakyReLU(SLOPE, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One residual step."""
        return self.relu(torch.addcmul(x, self.conv(x), self.beta))


class IFBlock(nn.Module):
    """One flow block: at 1/scale resolution, predict a flow update (4 ch: t→0, t→1) and a mask update."""

    def __init__(self, in_planes: int, width: int) -> None:
        super().__init__()
        self.conv0 = nn.Sequential(_conv_act(in_planes, width // 2, 2), _conv_act(width // 2, width, 2))
        self.convblock = nn.Sequential(*(ResConv(width) for _ in range(RES_CONVS)))
        self.lastconv = nn.Sequential(nn.ConvTranspose2d(width, 24, 4, 2, 1), nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor, flow: torch.Tensor | None, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(flow, mask) at full resolution from the inputs (and the current flow) seen at 1/scale."""
        if scale != 1:
            x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
        if flow is not None:
            if scale != 1:
                flow = F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear", align_corners=False) / scale
            x = torch.cat((x, flow), 1)
        out = self.lastconv(self.convblock(self.conv0(x)))
        if scale != 1:
            out = F.interpolate(out, scale_factor=scale, mode="bilinear", align_corners=False)
        return out[:, :4] * scale, out[:, 4:5]


class IFNet(nn.Module):
    """The RIFE v4.6 flow network; ``forward(img0, img1, timestep)`` returns the frame at ``timestep``."""

    def __init__(self) -> None:
        super().__init__()
        self.block0 = IFBlock(FIRST_BLOCK_INPUTS, BLOCK_WIDTHS[0])
        self.block1 = IFBlock(LATER_BLOCK_INPUTS, BLOCK_WIDTHS[1])
        self.block2 = IFBlock(LATER_BLOCK_INPUTS, BLOCK_WIDTHS[2])
        self.block3 = IFBlock(LATER_BLOCK_INPUTS, BLOCK_WIDTHS[3])
        self._grids: dict[tuple[str, torch.dtype, int, int], torch.Tensor] = {}

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, timestep: torch.Tensor | float,
                scales: Sequence[float] = SCALES) -> torch.Tensor:
        """Interpolate B×3×H×W images in [0, 1] (H, W multiples of 32·scale) at per-sample times in [0, 1]."""
        t = _timestep_plane(img0, timestep)
        flow: torch.Tensor | None = None
        mask = warped0 = warped1 = None
        for block, scale in zip((self.block0, self.block1, self.block2, self.block3), scales):
            if flow is None:
                flow, mask = block(torch.cat((img0, img1, t), 1), None, scale)
            else:
                delta, mask_delta = block(torch.cat((warped0, warped1, t, mask), 1), flow, scale)
                flow, mask = flow + delta, mask + mask_delta
            warped0 = self.warp(img0, flow[:, :2])
            warped1 = self.warp(img1, flow[:, 2:4])
        weight = torch.sigmoid(mask)
        return warped0 * weight + warped1 * (1 - weight)

    def warp(self, image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """Backward-warp ``image`` by a pixel flow (x, y), bilinear, border-clamped."""
        _, _, height, width = flow.shape
        grid = self._base_grid(flow.device, flow.dtype, height, width)
        scale = flow.new_tensor([(width - 1.0) / 2.0, (height - 1.0) / 2.0]).view(1, 2, 1, 1)
        coords = (grid + flow / scale).permute(0, 2, 3, 1)
        return F.grid_sample(image, coords, mode="bilinear", padding_mode="border", align_corners=True)

    def _base_grid(self, device: torch.device, dtype: torch.dtype, height: int, width: int) -> torch.Tensor:
        """The identity sampling grid (1×2×H×W, x then y in [-1, 1]), cached per device, dtype and size."""
        key = (str(device), dtype, height, width)
        if key not in self._grids:
            xs = torch.linspace(-1.0, 1.0, width, device=device, dtype=dtype).view(1, 1, 1, width)
            ys = torch.linspace(-1.0, 1.0, height, device=device, dtype=dtype).view(1, 1, height, 1)
            self._grids[key] = torch.cat((xs.expand(1, 1, height, width), ys.expand(1, 1, height, width)), 1)
        return self._grids[key]


def _timestep_plane(image: torch.Tensor, timestep: torch.Tensor | float) -> torch.Tensor:
    """The timestep as a B×1×H×W plane (a float, or one value per sample)."""
    batch, _, height, width = image.shape
    values = torch.as_tensor(timestep, dtype=image.dtype, device=image.device).reshape(-1, 1, 1, 1)
    return values.expand(batch, 1, height, width)
