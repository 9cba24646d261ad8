"""Real-ESRGAN-family upscaling from local weights (SRVGGNetCompact and RRDBNet), and the Upscaler protocol.

The WebUI plugs its own upscalers in through ``Upscaler``; standalone, ``load_upscaler`` builds the network that a
``realesr-animevideov3.pth`` / ``RealESRGAN_x4plus.pth`` / ``RealESRGAN_x4plus_anime_6B.pth`` file describes
(sizes read from its weights) and runs it at its native ×4, resizing to ×2/×3 with Lanczos like Real-ESRGAN's
``outscale``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deforum.config.fetch import find_or_download_file
from deforum.config.weights import WeightsFile, checked_state
from deforum.core.services import CancelToken, RenderCancelled
from deforum.integrations.post.frame_stream import FrameSource

log = logging.getLogger(__name__)

MODEL_FILES = {
    "realesr-animevideov3": "realesr-animevideov3",
    "realesrgan-x4plus": "RealESRGAN_x4plus",
    "realesrgan-x4plus-anime": "RealESRGAN_x4plus_anime_6B",
}
RELEASES = "https://github.com/xinntao/Real-ESRGAN/releases"
SUBFOLDERS = ("Deforum", "Deforum/realesrgan", "RealESRGAN", "ESRGAN", "")
TILE_PAD = 10
FACTORS = (2, 3, 4)


@runtime_checkable
class Upscaler(Protocol):
    """Enlarges one RGB uint8 frame by an integer factor (the WebUI adapter wraps the WebUI's upscalers)."""

    def upscale(self, image: np.ndarray, factor: int) -> np.ndarray:
        """The H·factor × W·factor × 3 uint8 result."""
        ...


class SRVGGNetCompact(nn.Module):
    """Real-ESRGAN's compact video model: a plain conv stack with PReLUs, pixel shuffle, plus nearest upsampling."""

    def __init__(self, num_feat: int = 64, num_conv: int = 16, upscale: int = 4, prelu: bool = True) -> None:
        super().__init__()
        self.upscale = upscale

        def act() -> nn.Module:
            """The activation after each convolution."""
            return nn.PReLU(num_parameters=num_feat) if prelu else nn.LeakyReLU(0.1, inplace=True)

        layers: list[nn.Module] = [nn.Conv2d(3, num_feat, 3, 1, 1), act()]
        for _ in range(num_conv):
            layers += [nn.Conv2d(num_feat, num_feat, 3, 1, 1), act()]
        layers.append(nn.Conv2d(num_feat, 3 * upscale * upscale, 3, 1, 1))
        self.body = nn.ModuleList(layers)
        self.upsampler = nn.PixelShuffle(upscale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upscaled image: learnt residual over a nearest-neighbour enlargement."""
        out = x
        for layer in self.body:
            out = layer(out)
        return self.upsampler(out) + F.interpolate(x, scale_factor=self.upscale, mode="nearest")


class ResidualDenseBlock(nn.Module):
    """Five densely connected 3×3 convolutions, output scaled by 0.2 and added to the input."""

    def __init__(self, num_feat: int, num_grow: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_grow, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat + num_grow, num_grow, 3, 1, 1)
        self.conv3 = nn.Conv2d(num_feat + 2 * num_grow, num_grow, 3, 1, 1)
        self.conv4 = nn.Conv2d(num_feat + 3 * num_grow, num_grow, 3, 1, 1)
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow, num_feat, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x + 0.2·dense(x)."""
        features = [x]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            features.append(self.lrelu(conv(torch.cat(features, 1))))
        return x + 0.2 * self.conv5(torch.cat(features, 1))


class RRDB(nn.Module):
    """Three residual dense blocks in a residual-in-residual connection."""

    def __init__(self, num_feat: int, num_grow: int) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x + 0.2·rdb3(rdb2(rdb1(x)))."""
        return x + 0.2 * self.rdb3(self.rdb2(self.rdb1(x)))


class RRDBNet(nn.Module):
    """ESRGAN's ×4 generator (Real-ESRGAN x4plus: 23 blocks; x4plus anime: 6 blocks)."""

    def __init__(self, num_feat: int = 64, num_block: int = 23, num_grow: int = 32) -> None:
        super().__init__()
        self.conv_first = nn.Conv2d(3, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*(RRDB(num_feat, num_grow) for _ in range(num_block)))
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, 3, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features, residual trunk, two nearest ×2 upsamplings, output convolutions."""
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = self.lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = self.lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))


def weights_spec(model: str) -> WeightsFile:
    """Where the weights of an r_upscale_model choice are looked for."""
    if model not in MODEL_FILES:
        raise ValueError(f"Unknown upscale model {model!r}; choose one of {', '.join(MODEL_FILES)}.")
    stem = MODEL_FILES[model]
    return WeightsFile(f"Real-ESRGAN {model}", (f"{stem}.pth", f"{stem}.safetensors"), SUBFOLDERS,
                       f"{RELEASES} ({stem}.pth)", catalog=model)


def read_state(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """A Real-ESRGAN state dict from .pth (``params_ema``/``params`` unwrapped) or .safetensors."""
    if str(path).endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(str(path))
    state = checked_state(torch.load(str(path), map_location="cpu", weights_only=True), path)
    for key in ("params_ema", "params"):
        if isinstance(state.get(key), dict):
            return state[key]
    return state


def build_network(state: dict[str, torch.Tensor]) -> tuple[nn.Module, int]:
    """(network with the weights loaded, native scale), the architecture and sizes read from the weights."""
    if "conv_first.weight" in state:
        if state["conv_first.weight"].shape[1] != 3:
            raise ValueError("Only ×4 RRDBNet weights are supported (this file takes pixel-unshuffled input).")
        blocks = len({key.split(".")[1] for key in state if key.startswith("body.")})
        grow = state["body.0.rdb1.conv1.weight"].shape[0]
        net: nn.Module = RRDBNet(state["conv_first.weight"].shape[0], blocks, grow)
        scale = 4
    elif "body.0.weight" in state:
        convs = sorted(int(key.split(".")[1]) for key, value in state.items()
                       if key.startswith("body.") and key.endswith(".weight") and value.ndim == 4)
        scale = int(round((state[f"body.{convs[-1]}.weight"].shape[0] / 3) ** 0.5))
        net = SRVGGNetCompact(state["body.0.weight"].shape[0], len(convs) - 2, scale, "body.1.weight" in state)
    else:
        raise ValueError("Unrecognised upscaler weights: expected Real-ESRGAN RRDBNet or SRVGGNetCompact keys.")
    net.load_state_dict(state, strict=True)
    return net.eval(), scale


class RealEsrganUpscaler:
    """An Upscaler running a Real-ESRGAN network (optionally in tiles), resized to the factor asked."""

    def __init__(self, net: nn.Module, scale: int, *, device: str | None = None, half: bool | None = None,
                 tile: int = 0) -> None:
        from deforum.config.weights import default_device

        self.device = torch.device(device or default_device())
        self.dtype = torch.float16 if (self.device.type == "cuda" if half is None else half) else torch.float32
        self.net, self.scale, self.tile = net.to(self.device, self.dtype), scale, max(int(tile), 0)

    @torch.inference_mode()
    def upscale(self, image: np.ndarray, factor: int) -> np.ndarray:
        """The frame enlarged `factor` times (native network scale, then Lanczos down to the factor)."""
        import cv2

        if not 1 <= factor <= self.scale:
            raise ValueError(f"This upscaler enlarges up to ×{self.scale}, asked for ×{factor}.")
        x = torch.from_numpy(np.ascontiguousarray(image)).to(self.device).permute(2, 0, 1)[None]
        out = self._run(x.to(self.dtype) / 255.0).float().clamp(0, 1)
        result = (out[0] * 255).round().to(torch.uint8).permute(1, 2, 0).contiguous().cpu().numpy()
        if factor == self.scale:
            return result
        height, width = image.shape[:2]
        return cv2.resize(result, (width * factor, height * factor), interpolation=cv2.INTER_LANCZOS4)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        """The network on the whole frame, or tile by tile with a 10-pixel overlap when `tile` is set."""
        _, _, height, width = x.shape
        if not self.tile or (height <= self.tile and width <= self.tile):
            return self.net(x)
        s, out = self.scale, x.new_zeros(1, 3, height * self.scale, width * self.scale)
        for top in range(0, height, self.tile):
            for left in range(0, width, self.tile):
                bottom, right = min(top + self.tile, height), min(left + self.tile, width)
                y0, x0 = max(top - TILE_PAD, 0), max(left - TILE_PAD, 0)
                piece = self.net(x[:, :, y0:min(bottom + TILE_PAD, height), x0:min(right + TILE_PAD, width)])
                oy, ox = (top - y0) * s, (left - x0) * s
                out[:, :, top * s:bottom * s, left * s:right * s] = \
                    piece[:, :, oy:oy + (bottom - top) * s, ox:ox + (right - left) * s]
        return out


def load_upscaler(model: str, *, models_dir: str | None = None, device: str | None = None,
                  half: bool | None = None, tile: int = 0, path: str | os.PathLike[str] | None = None
                  ) -> RealEsrganUpscaler:
    """The Real-ESRGAN upscaler for an r_upscale_model choice (weights downloaded on first use)."""
    weights = Path(path) if path else find_or_download_file(weights_spec(model), models_dir)
    net, scale = build_network(read_state(weights))
    log.info("Loaded upscaler %s (×%d) from %s", model, scale, weights)
    return RealEsrganUpscaler(net, scale, device=device, half=half, tile=tile)


def parse_factor(value: str | int) -> int:
    """2, 3 or 4 from 'x2' / 'x3' / 'x4' (or the number)."""
    text = str(value).strip().lower().removeprefix("x")
    if not text.isdigit() or int(text) not in FACTORS:
        raise ValueError(f"Upscale factor must be x2, x3 or x4, got {value!r}.")
    return int(text)


def upscale_frames(source: FrameSource, upscaler: Upscaler, factor: int, write: Callable[[int, np.ndarray], None],
                   *, progress: Callable[[int, int], None] | None = None, cancel: CancelToken | None = None) -> int:
    """Upscale every frame of `source` in order, handing each to `write(index, frame)`; returns the count."""
    done = 0
    for index, frame in enumerate(source.frames()):
        if cancel is not None and cancel.cancelled:
            raise RenderCancelled("upscaling cancelled")
        write(index, upscaler.upscale(frame, factor))
        done = index + 1
        if progress is not None:
            progress(done, source.count)
    return done
