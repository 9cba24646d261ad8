"""3D motion: re-project every pixel from a still camera to a moved one and resample with ``grid_sample``.

Tensors are batched (images B×C×H×W, z B×H×W, camera transforms B×4×4) and stay on the caller's device.
As in the original, the depth points sit on a ``linspace(-1, 1)`` pixel grid while sampling uses
``affine_grid``'s pixel centres (``align_corners=False``). The camera transforms act on row vectors
(``camera3d.motion_transforms``) and the points are projected with the original's float32 roundings, so the
sampling grid is the original's bit for bit.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

SAMPLING_MODES = ("bicubic", "bilinear", "nearest")
PADDING_MODES = ("border", "reflection", "zeros")
LEGACY_PIXEL_OFFSET = 1.0 / 512 - 0.0001
FAR_AWAY = 1.0e4


@functools.lru_cache(maxsize=8)
def pixel_grids(height: int, width: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(depth-point x on linspace(-1, 1) as 1×1×W, y as 1×H×1, identity sampling grid H×W×2), cached."""
    xs = torch.linspace(-1.0, 1.0, width, dtype=torch.float32, device=device).view(1, 1, width)
    ys = torch.linspace(-1.0, 1.0, height, dtype=torch.float32, device=device).view(1, height, 1)
    identity = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], dtype=torch.float32, device=device)
    base = F.affine_grid(identity, [1, 1, height, width], align_corners=False)[0]
    return xs, ys, base


_MAY_BE_NONZERO = torch.tensor([[1, 0, 1, 0], [0, 1, 1, 0], [0, 0, 1, 1], [0, 0, 1, 0]], dtype=torch.bool)


def _is_projection_only(transforms: torch.Tensor) -> bool:
    """Whether every transform only scales x and y and takes w = z (a camera that does not move)."""
    host = transforms.cpu()
    return bool((host[:, ~_MAY_BE_NONZERO] == 0).all()) and bool((host[:, 2, 3] == 1).all())


def _project_xy(xs: torch.Tensor, ys: torch.Tensor, z: torch.Tensor, transforms: torch.Tensor) -> torch.Tensor:
    """NDC x, y (B×H×W×2) of the points (x, y, z, 1) under row-vector transforms M (B×4×4).

    Each coordinate is the original's row-vector matrix product as its CPU matmul rounds it: the four products
    rounded, then summed in order, ``((x·M0j + y·M1j) + z·M2j) + M3j``, then x and y divided by w. The x and y
    products are taken once per column and row. A camera that does not move (only M00, M11, column 2 and M23 = 1
    nonzero) gives x·M00 / z and y·M11 / z exactly, since its other products are exact zeros (z finite).
    """
    m = transforms.to(device=z.device, dtype=torch.float32).view(-1, 4, 4, 1, 1)
    if _is_projection_only(transforms):
        return torch.stack(((xs * m[:, 0, 0]) / z, (ys * m[:, 1, 1]) / z), dim=-1)

    def coordinate(j: int) -> torch.Tensor:
        total = (xs * m[:, 0, j]) + (ys * m[:, 1, j])
        total.add_(z * m[:, 2, j])
        return total.add_(m[:, 3, j])

    w = coordinate(3)
    return torch.stack((coordinate(0).div_(w), coordinate(1).div_(w)), dim=-1)


def reprojection_grid(z: torch.Tensor, still: torch.Tensor, moved: torch.Tensor) -> torch.Tensor:
    """Sampling grid (B×H×W×2) that shows what the moved camera sees of the depth points seen by the still one.

    The original's arithmetic: identity grid − (moved projection − still projection), float32.
    """
    z = z.to(torch.float32)
    xs, ys, base = pixel_grids(z.shape[1], z.shape[2], z.device)
    grid = _project_xy(xs, ys, z, moved).sub_(_project_xy(xs, ys, z, still))
    torch.sub(base, grid, out=grid)
    return torch.nan_to_num_(grid, nan=FAR_AWAY, posinf=FAR_AWAY, neginf=-FAR_AWAY)


def sample_images(images: torch.Tensor, grid: torch.Tensor, sampling_mode: str, padding_mode: str) -> torch.Tensor:
    """``grid_sample`` with the settings' sampling and padding modes (align_corners=False)."""
    if sampling_mode not in SAMPLING_MODES:
        raise ValueError(f"sampling_mode must be one of {SAMPLING_MODES}, got {sampling_mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    return F.grid_sample(images, grid, mode=sampling_mode, padding_mode=padding_mode, align_corners=False)


def warp_tensors_3d(
    images: torch.Tensor,
    z: torch.Tensor,
    still: torch.Tensor,
    moved: torch.Tensor,
    *,
    sampling_mode: str = "bicubic",
    padding_mode: str = "border",
) -> torch.Tensor:
    """Warp float images (B×C×H×W) by per-pixel z and row-vector camera transforms; clamped to [0, 255]."""
    grid = reprojection_grid(z, still, moved)
    return sample_images(images.to(torch.float32), grid, sampling_mode, padding_mode).clamp_(0.0, 255.0)


def resolve_device(device: str | torch.device) -> torch.device:
    """The torch device to warp on; MPS falls back to the CPU as in the original."""
    device = torch.device(device)
    return torch.device("cpu") if device.type == "mps" else device


def warp_image_3d(
    image: np.ndarray,
    z: np.ndarray,
    still: np.ndarray,
    moved: np.ndarray,
    *,
    sampling_mode: str = "bicubic",
    padding_mode: str = "border",
    legacy_offset: bool = False,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Warp one H×W×C array by z (H×W) and 1×4×4 row-vector transforms (``camera3d.motion_transforms``).

    Values clamp to [0, 255] and cast back, truncating for integers.
    """
    device = resolve_device(device)
    tensor = torch.from_numpy(np.ascontiguousarray(image)).to(device=device, dtype=torch.float32)
    tensor = tensor.permute(2, 0, 1).unsqueeze(0).contiguous()
    if legacy_offset:
        tensor += LEGACY_PIXEL_OFFSET
    warped = warp_tensors_3d(
        tensor,
        torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32)).to(device).unsqueeze(0),
        torch.as_tensor(still, dtype=torch.float32).reshape(1, 4, 4),
        torch.as_tensor(moved, dtype=torch.float32).reshape(1, 4, 4),
        sampling_mode=sampling_mode,
        padding_mode=padding_mode,
    )[0].permute(1, 2, 0)
    if image.dtype == np.uint8:
        return warped.to(torch.uint8).cpu().numpy()
    return warped.cpu().numpy().astype(image.dtype)
