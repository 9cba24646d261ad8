"""Rotation matrices for the 2D perspective flip: axis rotations and the intrinsic XYZ Euler product.

All matrices act on column vectors (``p' = M @ p``) and are float64 numpy arrays; angles are in degrees.
The 3D warp's cameras are in ``camera3d`` (float32, as the original computed them).
"""

from __future__ import annotations

import math

import numpy as np


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
