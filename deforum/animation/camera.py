"""Camera maths for the warps: Euler rotations, the 3D motion's camera move, FoV projection matrices.

All matrices act on column vectors (``p' = M @ p``) and are float64 numpy arrays; angles are in degrees.
The 3D warp reproduces the original's PyTorch3D ``FoVPerspectiveCameras`` (right-handed, +z into the screen,
NDC x/y in [-1, 1], z mapped to [0, 1] between near and far) with ``X_view = R^T X_world + T``.
"""

from __future__ import annotations

import math

import numpy as np

TRANSLATION_SCALE = 1.0 / 200.0


def rotation_x(degrees: float) -> np.ndarray:
    """3x3 rotation about the x axis (counter-clockwise looking down the axis)."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rotation_y(degrees: float) -> np.ndarray:
    """3x3 rotation about the y axis."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rotation_z(degrees: float) -> np.ndarray:
    """3x3 rotation about the z axis."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def euler_xyz(x_degrees: float, y_degrees: float, z_degrees: float) -> np.ndarray:
    """Intrinsic XYZ Euler rotation ``Rx @ Ry @ Rz`` (PyTorch3D's ``euler_angles_to_matrix(..., "XYZ")``)."""
    return rotation_x(x_degrees) @ rotation_y(y_degrees) @ rotation_z(z_degrees)


def camera_translation(translation_x: float, translation_y: float, translation_z: float) -> np.ndarray:
    """The 3D warp's camera translation: motion units / 200 with x and z negated (the original's Disco scale)."""
    return np.array([-translation_x, translation_y, -translation_z], dtype=np.float64) * TRANSLATION_SCALE


def fov_projection(fov_degrees: float, aspect_ratio: float, near: float, far: float) -> np.ndarray:
    """4x4 symmetric-frustum projection of PyTorch3D's ``FoVPerspectiveCameras`` (w = view z)."""
    tan_half = math.tan(math.radians(fov_degrees) / 2.0)
    return np.array([
        [1.0 / (tan_half * aspect_ratio), 0.0, 0.0, 0.0],
        [0.0, 1.0 / tan_half, 0.0, 0.0],
        [0.0, 0.0, far / (far - near), -(far * near) / (far - near)],
        [0.0, 0.0, 1.0, 0.0],
    ])


def world_to_view(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """4x4 world-to-view transform ``X_view = R^T X + T`` (PyTorch3D's row-vector ``X R + T``)."""
    matrix = np.eye(4)
    matrix[:3, :3] = np.asarray(rotation, dtype=np.float64).T
    matrix[:3, 3] = translation
    return matrix


def full_projection(projection: np.ndarray, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """4x4 world-to-NDC transform of a camera with extrinsics (rotation, translation)."""
    return projection @ world_to_view(rotation, translation)


def motion_cameras(
    rotation_degrees: tuple[float, float, float],
    translation: tuple[float, float, float],
    fov_degrees: float,
    aspect_ratio: float,
    near: float,
    far: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(still camera, moved camera) full projections for one frame of 3D motion in settings units."""
    projection = fov_projection(fov_degrees, aspect_ratio, near, far)
    moved = full_projection(projection, euler_xyz(*rotation_degrees), camera_translation(*translation))
    return projection, moved
