"""The 3D warp's camera transforms in the original's float32 arithmetic (its PyTorch3D FoV cameras).

The original built each frame's still and moved cameras as PyTorch3D ``FoVPerspectiveCameras`` and projected the
depth points with their full transforms: rotation, translation and projection as float32 4×4 matrices acting on
row vectors (``p' = p @ M``), composed with batched matrix products in that order. The same torch operations
in the same order give the same bits, so the sampling grid, and every later frame, matches the original's.
``camera.py`` holds the same maths in float64 for reasoning and tests.
"""

from __future__ import annotations

import math

import numpy as np
import torch

TRANSLATION_SCALE = 1.0 / 200.0


def _axis_rotation(axis: str, angle: torch.Tensor) -> torch.Tensor:
    """3×3 float32 rotation by a 0-d angle (radians) about the x, y or z axis."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    one, zero = torch.ones_like(angle), torch.zeros_like(angle)
    flat = {
        "X": (one, zero, zero, zero, cos, -sin, zero, sin, cos),
        "Y": (cos, zero, sin, zero, one, zero, -sin, zero, cos),
        "Z": (cos, -sin, zero, sin, cos, zero, zero, zero, one),
    }[axis]
    return torch.stack(flat, -1).reshape(3, 3)


def euler_rotation(degrees: tuple[float, float, float]) -> torch.Tensor:
    """1×3×3 float32 intrinsic XYZ rotation ``(Rx @ Ry) @ Rz`` from angles in degrees."""
    angles = torch.tensor([math.radians(float(value)) for value in degrees])
    x, y, z = (_axis_rotation(axis, angle) for axis, angle in zip("XYZ", torch.unbind(angles, -1), strict=True))
    return torch.matmul(torch.matmul(x, y), z).unsqueeze(0)


def projection_rows(fov_degrees: float, aspect_ratio: float, near: float, far: float) -> torch.Tensor:
    """1×4×4 float32 FoV perspective projection for row vectors (the transposed calibration matrix)."""
    fov, aspect, znear, zfar = (torch.tensor([float(v)], dtype=torch.float32)
                                for v in (fov_degrees, aspect_ratio, near, far))
    half_tan = torch.tan((np.pi / 180) * fov / 2)
    max_y = half_tan * znear
    min_y = -max_y
    max_x = max_y * aspect
    min_x = -max_x
    calibration = torch.zeros((1, 4, 4), dtype=torch.float32)
    calibration[:, 0, 0] = 2.0 * znear / (max_x - min_x)
    calibration[:, 1, 1] = 2.0 * znear / (max_y - min_y)
    calibration[:, 0, 2] = (max_x + min_x) / (max_x - min_x)
    calibration[:, 1, 2] = (max_y + min_y) / (max_y - min_y)
    calibration[:, 3, 2] = 1.0 * torch.ones(1, dtype=torch.float32)
    calibration[:, 2, 2] = 1.0 * zfar / (zfar - znear)
    calibration[:, 2, 3] = -(zfar * znear) / (zfar - znear)
    return calibration.transpose(1, 2).contiguous()


def camera_rows(rotation: torch.Tensor, translation: torch.Tensor, projection: torch.Tensor) -> torch.Tensor:
    """1×4×4 world-to-NDC transform for row vectors: (rotation · translation) · projection, float32."""
    rotate = torch.eye(4, dtype=torch.float32).view(1, 4, 4).repeat(1, 1, 1)
    rotate[:, :3, :3] = rotation.to(torch.float32)
    translate = torch.eye(4, dtype=torch.float32).view(1, 4, 4).repeat(1, 1, 1)
    translate[:, 3, :3] = translation.to(torch.float32)
    return rotate.bmm(translate).bmm(projection)


def motion_transforms(
    rotation_degrees: tuple[float, float, float],
    translation: tuple[float, float, float],
    fov_degrees: float,
    aspect_ratio: float,
    near: float,
    far: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(still, moved) 1×4×4 row-vector camera transforms of one 3D frame, in settings units and degrees."""
    projection = projection_rows(fov_degrees, aspect_ratio, near, far)
    tx, ty, tz = (float(value) for value in translation)
    moved_translation = torch.tensor([[-tx * TRANSLATION_SCALE, ty * TRANSLATION_SCALE, -tz * TRANSLATION_SCALE]],
                                     dtype=torch.float32)
    still = camera_rows(torch.eye(3)[None], torch.zeros(1, 3), projection)
    moved = camera_rows(euler_rotation(rotation_degrees), moved_translation, projection)
    return still, moved
