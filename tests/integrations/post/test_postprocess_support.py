"""Helpers for the post-processing tests: weights files of the real architectures, frames, videos, tones."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from deforum.integrations.post.frame_stream import read_rgb, write_png
from deforum.media.video import ffmpeg_path

TS = "20240101120000"


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty models folder; $DEFORUM_MODELS_DIR and ./models cannot leak real weights in."""
    monkeypatch.delenv("DEFORUM_MODELS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "models"
    (root / "Deforum").mkdir(parents=True)
    return root


def save_rife_weights(path: Path, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random IFNet weights saved the way RIFE46.pkl stores them (``module.`` prefix); returns the state."""
    from deforum.integrations.post.rife.network import IFNet

    torch.manual_seed(seed)
    state = IFNet().state_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({f"module.{key}": value for key, value in state.items()}, path)
    return state


class TinyFilm(torch.nn.Module):
    """film_net's call signature ``(x0, x1, batch_dt)`` with a plain cross-fade inside (plus an unused conv)."""

    def __init__(self) -> None:
        super().__init__()
        self.mix = torch.nn.Conv2d(6, 3, 1)

    def forward(self, x0: torch.Tensor, x1: torch.Tensor, batch_dt: torch.Tensor) -> torch.Tensor:
        """x0 + (x1 − x0)·dt."""
        dt = batch_dt.view(-1, 1, 1, 1)
        return x0 + (x1 - x0) * dt + 0.0 * self.mix(torch.cat([x0, x1], 1))


def save_film(path: Path) -> Path:
    """A TorchScript file with film_net's interface."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.jit.save(torch.jit.script(TinyFilm()), str(path))
    return path


def save_srvgg(path: Path, *, num_feat: int = 8, num_conv: int = 2, upscale: int = 4, seed: int = 0) -> None:
    """Random SRVGGNetCompact weights in Real-ESRGAN's ``{"params": ...}`` layout."""
    from deforum.integrations.post.upscale import SRVGGNetCompact

    torch.manual_seed(seed)
    net = SRVGGNetCompact(num_feat, num_conv, upscale)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"params": net.state_dict()}, path)


def save_rrdb(path: Path, *, num_feat: int = 8, num_block: int = 2, num_grow: int = 4, seed: int = 0) -> None:
    """Random RRDBNet weights in Real-ESRGAN's ``{"params_ema": ...}`` layout."""
    from deforum.integrations.post.upscale import RRDBNet

    torch.manual_seed(seed)
    net = RRDBNet(num_feat, num_block, num_grow)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"params_ema": net.state_dict()}, path)


def moving_square(index: int, size: int = 64) -> np.ndarray:
    """A smooth test frame: a gradient background with a bright square moving right by 4 px per frame."""
    y, x = np.mgrid[0:size, 0:size]
    frame = np.stack([x * 2, y * 2, np.full_like(x, 90)], -1).astype(np.uint8)
    left = 8 + 4 * index
    frame[20:36, left:left + 16] = (250, 240, 30)
    return frame


def write_render(folder: Path, count: int, *, size: int = 64, timestring: str = TS) -> list[Path]:
    """A render folder's frames ``<ts>_%09d.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{timestring}_{i:09}.png" for i in range(count)]
    for i, path in enumerate(paths):
        write_png(path, moving_square(i, size))
    return paths


def ffmpeg(*args: str) -> None:
    """Run the bundled ffmpeg quietly, failing the test on error."""
    subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True,
                   stdin=subprocess.DEVNULL)


def make_tone(path: Path, seconds: float = 2.0) -> Path:
    """A 440 Hz sine tone (AAC in .m4a)."""
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac", str(path))
    return path


def make_video(path: Path, *, frames: int = 6, fps: int = 10, size: int = 64, audio: bool = False) -> Path:
    """An H.264 test-pattern video (optionally with a tone)."""
    inputs = ["-f", "lavfi", "-i", f"testsrc=size={size}x{size}:rate={fps}"]
    if audio:
        inputs += ["-f", "lavfi", "-i", "sine=frequency=440"]
    ffmpeg(*inputs, "-frames:v", str(frames), "-c:v", "libx264", "-pix_fmt", "yuv420p",
           *(["-c:a", "aac", "-shortest"] if audio else []), str(path))
    return path


def read_frames(folder: Path, pattern: str, count: int) -> list[np.ndarray]:
    """Frames written as ``folder / pattern % i`` for i in 0..count−1."""
    return [read_rgb(folder / (pattern % i)) for i in range(count)]
