"""Depth-Anything-V2 in plain torch: a DINOv2 ViT/14 backbone and a DPT head, no transformers needed.

Parameter names follow the official ``depth_anything_v2_vit{s,b,l}.pth`` files (``pretrained.*`` for the
backbone, ``depth_head.*`` for the head), so those load as they are; dav2_weights maps the ``-hf`` layout onto
them. The forward pass is the one transformers' DepthAnythingForDepthEstimation computes (same weights, same
depth), including its position-embedding resize (bicubic to the patch grid, in float32).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

PATCH = 14
REASSEMBLE_FACTORS = (4.0, 2.0, 1.0, 0.5)


@dataclass(frozen=True)
class DAv2Config:
    """The sizes of one Depth-Anything-V2 network (ViT-S/B/L/14 or a tiny test one)."""

    hidden_size: int
    num_layers: int
    num_heads: int
    mlp_size: int
    tapped_blocks: tuple[int, int, int, int]
    neck_sizes: tuple[int, int, int, int]
    fusion_size: int
    head_size: int = 32
    position_grid: int = 37
    layer_norm_eps: float = 1e-6
    depth_type: Literal["relative", "metric"] = "relative"
    max_depth: float = 1.0


class Attention(nn.Module):
    """Multi-head self-attention with fused q, k, v projections (the official ``attn.qkv`` / ``attn.proj``)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """B×N×D tokens attended over themselves, B×N×D out."""
        batch, count, dim = tokens.shape
        qkv = self.qkv(tokens).reshape(batch, count, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        mixed = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        return self.proj(mixed.transpose(1, 2).reshape(batch, count, dim))


class LayerScale(nn.Module):
    """A learned per-channel scale (the official ``ls1.gamma`` / ``ls2.gamma``)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Tokens times gamma, shape kept."""
        return tokens * self.gamma


class Mlp(nn.Module):
    """The transformer block's two-layer GELU MLP."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """B×N×D in, B×N×D out."""
        return self.fc2(F.gelu(self.fc1(tokens)))


class Block(nn.Module):
    """A pre-norm ViT block with layer scale on both residual branches."""

    def __init__(self, config: DAv2Config) -> None:
        super().__init__()
        dim = config.hidden_size
        self.norm1 = nn.LayerNorm(dim, eps=config.layer_norm_eps)
        self.attn = Attention(dim, config.num_heads)
        self.ls1 = LayerScale(dim)
        self.norm2 = nn.LayerNorm(dim, eps=config.layer_norm_eps)
        self.mlp = Mlp(dim, config.mlp_size)
        self.ls2 = LayerScale(dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """B×N×D in, B×N×D out."""
        tokens = tokens + self.ls1(self.attn(self.norm1(tokens)))
        return tokens + self.ls2(self.mlp(self.norm2(tokens)))


class PatchEmbed(nn.Module):
    """14×14 patches to tokens (the official ``patch_embed.proj``)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=PATCH, stride=PATCH)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """B×3×H×W pixels to B×(H/14·W/14)×D tokens, row-major over the patch grid."""
        return self.proj(pixels).flatten(2).transpose(1, 2)


class DinoV2(nn.Module):
    """The DINOv2 ViT backbone; returns the layer-normed tokens (class token dropped) of the tapped blocks."""

    def __init__(self, config: DAv2Config) -> None:
        super().__init__()
        self.config = config
        dim = config.hidden_size
        self.patch_embed = PatchEmbed(dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, config.position_grid ** 2 + 1, dim))
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.num_layers))
        self.norm = nn.LayerNorm(dim, eps=config.layer_norm_eps)

    def position_embedding(self, grid: tuple[int, int]) -> torch.Tensor:
        """1×(1+h·w)×D position embedding for a ``grid`` = (h, w) of patches (bicubic resize in float32)."""
        side = self.config.position_grid
        if grid == (side, side):
            return self.pos_embed
        patches = self.pos_embed[:, 1:].reshape(1, side, side, -1).permute(0, 3, 1, 2)
        resized = F.interpolate(patches.float(), size=grid, mode="bicubic", align_corners=False)
        resized = resized.to(self.pos_embed.dtype).permute(0, 2, 3, 1).reshape(1, grid[0] * grid[1], -1)
        return torch.cat((self.pos_embed[:, :1], resized), dim=1)

    def forward(self, pixels: torch.Tensor) -> list[torch.Tensor]:
        """B×3×H×W (sides multiples of 14) to four B×(h·w)×D token maps."""
        grid = (pixels.shape[2] // PATCH, pixels.shape[3] // PATCH)
        tokens = self.patch_embed(pixels.to(self.patch_embed.proj.weight.dtype))
        tokens = torch.cat((self.cls_token.expand(tokens.shape[0], -1, -1), tokens), dim=1)
        tokens = tokens + self.position_embedding(grid)
        tapped = []
        for index, block in enumerate(self.blocks):
            tokens = block(tokens)
            if index in self.config.tapped_blocks:
                tapped.append(self.norm(tokens)[:, 1:])
        return tapped


class ResidualUnit(nn.Module):
    """Pre-activation residual unit: x + conv(relu(conv(relu(x))))."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        """B×C×H×W in and out."""
        return feature + self.conv2(F.relu(self.conv1(F.relu(feature))))


class FusionBlock(nn.Module):
    """One DPT refinement step: add the skip feature, refine, upsample (to ``size`` or ×2), project."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.resConfUnit1 = ResidualUnit(channels)
        self.resConfUnit2 = ResidualUnit(channels)
        self.out_conv = nn.Conv2d(channels, channels, 1)

    def forward(self, path: torch.Tensor, skip: torch.Tensor | None = None,
                size: tuple[int, int] | None = None) -> torch.Tensor:
        """B×C×h×w path (plus a same-size B×C×h×w skip) to B×C×size (default 2h×2w)."""
        if skip is not None:
            path = path + self.resConfUnit1(skip)
        path = self.resConfUnit2(path)
        target = size if size is not None else (path.shape[2] * 2, path.shape[3] * 2)
        return self.out_conv(F.interpolate(path, size=target, mode="bilinear", align_corners=True))


def _resize_layer(channels: int, factor: float) -> nn.Module:
    """Transposed conv for factors 4 and 2, identity for 1, a stride-2 conv for 0.5."""
    if factor > 1:
        return nn.ConvTranspose2d(channels, channels, kernel_size=int(factor), stride=int(factor))
    if factor == 1:
        return nn.Identity()
    return nn.Conv2d(channels, channels, kernel_size=3, stride=int(1 / factor), padding=1)


class Scratch(nn.Module):
    """The DPT head's per-level 3×3 convs, four fusion blocks and output convs (the official ``scratch``)."""

    def __init__(self, config: DAv2Config) -> None:
        super().__init__()
        fusion = config.fusion_size
        for level, channels in enumerate(config.neck_sizes, start=1):
            setattr(self, f"layer{level}_rn", nn.Conv2d(channels, fusion, 3, padding=1, bias=False))
            setattr(self, f"refinenet{level}", FusionBlock(fusion))
        self.output_conv1 = nn.Conv2d(fusion, fusion // 2, 3, padding=1)
        self.output_conv2 = nn.Sequential(
            nn.Conv2d(fusion // 2, config.head_size, 3, padding=1), nn.ReLU(),
            nn.Conv2d(config.head_size, 1, 1), nn.ReLU() if config.depth_type == "relative" else nn.Sigmoid(),
        )


class DPTHead(nn.Module):
    """Reassembles four token maps into a feature pyramid, fuses it top-down and predicts one depth channel."""

    def __init__(self, config: DAv2Config) -> None:
        super().__init__()
        self.config = config
        self.projects = nn.ModuleList(nn.Conv2d(config.hidden_size, size, 1) for size in config.neck_sizes)
        self.resize_layers = nn.ModuleList(_resize_layer(size, factor)
                                           for size, factor in zip(config.neck_sizes, REASSEMBLE_FACTORS))
        self.scratch = Scratch(config)

    def forward(self, tapped: list[torch.Tensor], grid: tuple[int, int]) -> torch.Tensor:
        """Four B×(h·w)×D token maps on a ``grid`` = (h, w) to B×(14h)×(14w) depth."""
        scratch = self.scratch
        levels = []
        for index, tokens in enumerate(tapped):
            feature = tokens.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], *grid)
            feature = self.resize_layers[index](self.projects[index](feature))
            levels.append(getattr(scratch, f"layer{index + 1}_rn")(feature))
        path = scratch.refinenet4(levels[3], size=tuple(levels[2].shape[2:]))
        path = scratch.refinenet3(path, levels[2], size=tuple(levels[1].shape[2:]))
        path = scratch.refinenet2(path, levels[1], size=tuple(levels[0].shape[2:]))
        path = scratch.refinenet1(path, levels[0])
        path = F.interpolate(scratch.output_conv1(path), size=(grid[0] * PATCH, grid[1] * PATCH),
                             mode="bilinear", align_corners=True)
        return scratch.output_conv2(path)[:, 0] * self.config.max_depth


class DepthAnythingV2(nn.Module):
    """Depth-Anything-V2: normalised B×3×H×W pixels (sides multiples of 14) to B×H×W relative inverse depth."""

    def __init__(self, config: DAv2Config) -> None:
        super().__init__()
        self.config = config
        self.pretrained = DinoV2(config)
        self.depth_head = DPTHead(config)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """B×3×H×W to B×H×W (float of the model's dtype)."""
        if pixels.shape[2] % PATCH or pixels.shape[3] % PATCH:
            raise ValueError(f"Depth-Anything-V2 input sides must be multiples of {PATCH}, got {tuple(pixels.shape)}")
        grid = (pixels.shape[2] // PATCH, pixels.shape[3] // PATCH)
        return self.depth_head(self.pretrained(pixels), grid)
