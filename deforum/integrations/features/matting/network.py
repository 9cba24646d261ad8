"""Robust Video Matting (ResNet-50 variant), written from the published architecture.

Module and parameter names follow the published ``rvm_resnet50.pth`` state dict: ``backbone`` (torchvision
ResNet-50, last stage dilated, no pooling head), ``aspp`` (LR-ASPP), ``decoder`` (recurrent ConvGRU decoder
over 1/16 … 1/2 features and the pooled source), ``project_mat``/``project_seg`` and the deep guided filter
``refiner`` that lifts the low-resolution result to full size. Frames go through one at a time; the four
recurrent states carry what the network remembers between them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.resnet import Bottleneck, ResNet

FEATURE_CHANNELS = (64, 256, 512, 256)
DECODER_CHANNELS = (128, 64, 32, 16)
ASPP_IN, ASPP_OUT = 2048, 256
REFINER_HIDDEN = 16
Recurrent = tuple[Tensor | None, Tensor | None, Tensor | None, Tensor | None]


class ResNet50Encoder(ResNet):
    """ResNet-50 returning the 1/2, 1/4, 1/8 and (dilated) 1/16 feature maps; no classifier."""

    def __init__(self) -> None:
        super().__init__(block=Bottleneck, layers=[3, 4, 6, 3], replace_stride_with_dilation=[False, False, True])
        del self.avgpool
        del self.fc

    def forward(self, x: Tensor) -> list[Tensor]:  # type: ignore[override]
        """Four feature maps of an N×3×H×W batch in [0, 1]."""
        half = self.relu(self.bn1(self.conv1(x)))
        quarter = self.layer1(self.maxpool(half))
        eighth = self.layer2(quarter)
        return [half, quarter, eighth, self.layer4(self.layer3(eighth))]


class LRASPP(nn.Module):
    """Lite R-ASPP: a 1×1 conv branch gated by a globally pooled sigmoid branch."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.aspp1 = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                                   nn.BatchNorm2d(out_channels), nn.ReLU(True))
        self.aspp2 = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, out_channels, 1, bias=False),
                                   nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        """Gated features."""
        return self.aspp1(x) * self.aspp2(x)


class ConvGRU(nn.Module):
    """A convolutional GRU cell; a missing state starts at zero."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.ih = nn.Sequential(nn.Conv2d(channels * 2, channels * 2, 3, padding=1), nn.Sigmoid())
        self.hh = nn.Sequential(nn.Conv2d(channels * 2, channels, 3, padding=1), nn.Tanh())

    def forward(self, x: Tensor, state: Tensor | None) -> Tensor:
        """The new state (also the cell's output)."""
        if state is None:
            state = torch.zeros_like(x)
        reset, update = self.ih(torch.cat([x, state], dim=1)).split(self.channels, dim=1)
        candidate = self.hh(torch.cat([x, reset * state], dim=1))
        return (1 - update) * state + update * candidate


def _half_through_gru(x: Tensor, gru: ConvGRU, state: Tensor | None) -> tuple[Tensor, Tensor]:
    """Send the second half of the channels through the GRU, keep the first; return (features, new state)."""
    kept, recurrent = x.split(x.shape[1] // 2, dim=1)
    state = gru(recurrent, state)
    return torch.cat([kept, state], dim=1), state


def _upsample_to(x: Tensor, like: Tensor) -> Tensor:
    """Bilinear ×2, cropped to ``like``'s height and width."""
    x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
    return x[:, :, :like.shape[2], :like.shape[3]]


class BottleneckBlock(nn.Module):
    """The 1/16 stage: half of the ASPP features through a ConvGRU."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gru = ConvGRU(channels // 2)

    def forward(self, x: Tensor, state: Tensor | None) -> tuple[Tensor, Tensor]:
        """(features, new state)."""
        return _half_through_gru(x, self.gru, state)


class UpsamplingBlock(nn.Module):
    """Upsample, join the encoder skip and the pooled source, conv-BN-ReLU, then half through a ConvGRU."""

    def __init__(self, in_channels: int, skip_channels: int, src_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels + skip_channels + src_channels, out_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(True))
        self.gru = ConvGRU(out_channels // 2)

    def forward(self, x: Tensor, skip: Tensor, src: Tensor, state: Tensor | None) -> tuple[Tensor, Tensor]:
        """(features at the skip's resolution, new state)."""
        x = self.conv(torch.cat([_upsample_to(x, src), skip, src], dim=1))
        return _half_through_gru(x, self.gru, state)


class OutputBlock(nn.Module):
    """Upsample to the source size, join the source, two conv-BN-ReLU layers."""

    def __init__(self, in_channels: int, src_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels + src_channels, out_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(True),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(True))

    def forward(self, x: Tensor, src: Tensor) -> Tensor:
        """Hidden features at the source size."""
        return self.conv(torch.cat([_upsample_to(x, src), src], dim=1))


class RecurrentDecoder(nn.Module):
    """Decode 1/16 → full size, each stage seeing the source average-pooled to its scale."""

    def __init__(self) -> None:
        super().__init__()
        f, d = FEATURE_CHANNELS, DECODER_CHANNELS
        self.decode4 = BottleneckBlock(f[3])
        self.decode3 = UpsamplingBlock(f[3], f[2], 3, d[0])
        self.decode2 = UpsamplingBlock(d[0], f[1], 3, d[1])
        self.decode1 = UpsamplingBlock(d[1], f[0], 3, d[2])
        self.decode0 = OutputBlock(d[2], 3, d[3])

    def forward(self, src: Tensor, features: list[Tensor], states: Recurrent) -> tuple[Tensor, Recurrent]:
        """(hidden features at the source size, the four new states, finest first)."""
        pooled = [src]
        for _ in range(3):
            pooled.append(F.avg_pool2d(pooled[-1], 2, 2, ceil_mode=True, count_include_pad=False))
        f1, f2, f3, f4 = features
        x4, r4 = self.decode4(f4, states[3])
        x3, r3 = self.decode3(x4, f3, pooled[3], states[2])
        x2, r2 = self.decode2(x3, f2, pooled[2], states[1])
        x1, r1 = self.decode1(x2, f1, pooled[1], states[0])
        return self.decode0(x1, src), (r1, r2, r3, r4)


class Projection(nn.Module):
    """A 1×1 convolution head."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Projected channels."""
        return self.conv(x)


class DeepGuidedFilterRefiner(nn.Module):
    """Deep guided filter: local linear models fitted at low resolution, applied to the full-size source."""

    def __init__(self, hidden: int = REFINER_HIDDEN) -> None:
        super().__init__()
        self.box_filter = nn.Conv2d(4, 4, kernel_size=3, padding=1, bias=False, groups=4)
        self.box_filter.weight.data[...] = 1 / 9
        self.conv = nn.Sequential(
            nn.Conv2d(4 * 2 + hidden, hidden, kernel_size=1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(True),
            nn.Conv2d(hidden, hidden, kernel_size=1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(True),
            nn.Conv2d(hidden, 4, kernel_size=1, bias=True))

    def forward(self, fine_src: Tensor, base_src: Tensor, base_out: Tensor, base_hidden: Tensor) -> Tensor:
        """Full-size (foreground residual, alpha) from the low-resolution result ``base_out`` (N×4)."""
        fine_x = torch.cat([fine_src, fine_src.mean(1, keepdim=True)], dim=1)
        base_x = torch.cat([base_src, base_src.mean(1, keepdim=True)], dim=1)
        mean_x, mean_y = self.box_filter(base_x), self.box_filter(base_out)
        covariance = self.box_filter(base_x * base_out) - mean_x * mean_y
        variance = self.box_filter(base_x * base_x) - mean_x * mean_x
        slope = self.conv(torch.cat([covariance, variance, base_hidden], dim=1))
        offset = mean_y - slope * mean_x
        size = fine_src.shape[2:]
        slope = F.interpolate(slope, size, mode="bilinear", align_corners=False)
        offset = F.interpolate(offset, size, mode="bilinear", align_corners=False)
        return slope * fine_x + offset


class MattingNetwork(nn.Module):
    """RVM ResNet-50: one RGB frame in [0, 1] and the recurrent states → (foreground, alpha, new states)."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = ResNet50Encoder()
        self.aspp = LRASPP(ASPP_IN, ASPP_OUT)
        self.decoder = RecurrentDecoder()
        self.project_mat = Projection(DECODER_CHANNELS[3], 4)
        self.project_seg = Projection(DECODER_CHANNELS[3], 1)
        self.refiner = DeepGuidedFilterRefiner()

    def forward(self, src: Tensor, states: Recurrent = (None, None, None, None),
                downsample_ratio: float = 1.0) -> tuple[Tensor, Tensor, Recurrent]:
        """Matte an N×3×H×W frame, working at ``downsample_ratio`` of its size and refining back up."""
        small = src
        if downsample_ratio != 1:
            small = F.interpolate(src, scale_factor=downsample_ratio, mode="bilinear", align_corners=False,
                                  recompute_scale_factor=False)
        features = self.backbone(small)
        features[3] = self.aspp(features[3])
        hidden, states = self.decoder(small, features, states)
        out = self.project_mat(hidden)
        if downsample_ratio != 1:
            out = self.refiner(src, small, out, hidden)
        foreground_residual, alpha = out.split([3, 1], dim=1)
        return (foreground_residual + src).clamp(0.0, 1.0), alpha.clamp(0.0, 1.0), states
