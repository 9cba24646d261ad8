"""2D motion: rotation/zoom about a centre, translation, perspective flip; 3x3 matrices applied with OpenCV.

Matrices map source pixel coordinates to destination ones (OpenCV's ``warpPerspective`` convention) and are
float64. Pixel (0, 0) is the top-left pixel's centre; positive angles turn the picture counter-clockwise.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from deforum.animation.camera import euler_xyz

BORDER_MODES = {"replicate": cv2.BORDER_REPLICATE, "wrap": cv2.BORDER_WRAP}


def rotation_zoom_matrix(
    width: int, height: int, angle: float, zoom: float, center_x: float, center_y: float
) -> np.ndarray:
    """3x3 form of ``cv2.getRotationMatrix2D`` about (width*center_x, height*center_y), the centre as float32."""
    cx = float(np.float32(width * center_x))
    cy = float(np.float32(height * center_y))
    alpha = math.cos(math.radians(angle)) * zoom
    beta = math.sin(math.radians(angle)) * zoom
    return np.array([
        [alpha, beta, (1.0 - alpha) * cx - beta * cy],
        [-beta, alpha, beta * cx + (1.0 - alpha) * cy],
        [0.0, 0.0, 1.0],
    ])


def translation_matrix(translation_x: float, translation_y: float) -> np.ndarray:
    """3x3 translation by whole or fractional pixels (stored as float32, as the original did)."""
    matrix = np.eye(3)
    matrix[0, 2] = np.float32(translation_x)
    matrix[1, 2] = np.float32(translation_y)
    return matrix


def _flip_projection(fv_half: float, near: float, far: float) -> np.ndarray:
    """The flip's OpenGL-style projection, keeping the original's w = 1 - z (its identity-based [3, 3] = 1)."""
    projection = np.eye(4)
    projection[0, 0] = projection[1, 1] = 1.0 / math.tan(fv_half)
    projection[2, 2] = -(far + near) / (far - near)
    projection[2, 3] = -(2.0 * far * near) / (far - near)
    projection[3, 2] = -1.0
    return projection


def perspective_flip_matrix(
    width: int, height: int, theta: float, phi: float, gamma: float, fv: float
) -> np.ndarray:
    """3x3 homography of the image plane turned by (phi about x, gamma about y, theta about z) before a camera."""
    fv_half = math.radians(fv / 2.0)
    diagonal = math.hypot(width, height)
    side = diagonal / math.cos(fv_half)
    distance = diagonal / (2.0 * math.sin(fv_half))
    rotation = np.eye(4)
    rotation[:3, :3] = euler_xyz(phi, gamma, theta)
    shift = np.eye(4)
    shift[2, 3] = -distance
    camera = _flip_projection(fv_half, distance - diagonal / 2.0, distance + diagonal / 2.0) @ shift @ rotation
    corners = np.array([[-width / 2, height / 2], [width / 2, height / 2], [width / 2, -height / 2],
                        [-width / 2, -height / 2]])
    projected = camera @ np.column_stack([corners, np.zeros(4), np.ones(4)]).T
    w = projected[3]
    safe_w = np.where(np.abs(w) > np.finfo(np.float32).eps, w, np.inf)
    plane_xy = (projected[:2] / safe_w).T
    source = (corners + [width / 2, height / 2]).astype(np.float32)
    target = ((plane_xy + 1.0) * (0.5 * side)).astype(np.float32)
    homography = cv2.getPerspectiveTransform(source, target)
    recentre = translation_matrix((width - side) / 2, (height - side) / 2)
    return homography @ recentre


def motion_matrix_2d(
    width: int,
    height: int,
    *,
    angle: float,
    zoom: float,
    translation_x: float,
    translation_y: float,
    center_x: float,
    center_y: float,
    flip: np.ndarray | None = None,
) -> np.ndarray:
    """One frame's 2D matrix: translate, then rotate/zoom; with a flip the original dropped the translation."""
    rotate = rotation_zoom_matrix(width, height, angle, zoom, center_x, center_y)
    if flip is not None:
        return flip @ rotate
    return rotate @ translation_matrix(translation_x, translation_y)


def warp_perspective(image: np.ndarray, matrix: np.ndarray, border: str = "replicate") -> np.ndarray:
    """Apply a 3x3 matrix with bilinear sampling; ``border`` is "replicate" or "wrap"."""
    if border not in BORDER_MODES:
        raise ValueError(f"border must be one of {sorted(BORDER_MODES)}, got {border!r}")
    height, width = image.shape[:2]
    return cv2.warpPerspective(image, matrix, (width, height), borderMode=BORDER_MODES[border])
