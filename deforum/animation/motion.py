"""One frame's motion values and the single warp entry point the engine, preview and cadence tweens call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from deforum.animation import warp2d
from deforum.animation.depth_z import LEGACY_ALGORITHMS, depth_to_z

SERIES_KEYS: dict[str, str] = {
    "angle": "angle",
    "zoom": "zoom",
    "translation_x": "translation_x",
    "translation_y": "translation_y",
    "translation_z": "translation_z",
    "transform_center_x": "transform_center_x",
    "transform_center_y": "transform_center_y",
    "rotation_3d_x": "rotation_3d_x",
    "rotation_3d_y": "rotation_3d_y",
    "rotation_3d_z": "rotation_3d_z",
    "perspective_flip_theta": "perspective_flip_theta",
    "perspective_flip_phi": "perspective_flip_phi",
    "perspective_flip_gamma": "perspective_flip_gamma",
    "perspective_flip_fv": "perspective_flip_fv",
    "fov": "fov_schedule",
    "near": "near_schedule",
    "far": "far_schedule",
    "aspect_ratio": "aspect_ratio_schedule",
    "noise": "noise_schedule",
    "contrast": "contrast_schedule",
    "amount": "amount_schedule",
    "kernel": "kernel_schedule",
    "sigma": "sigma_schedule",
    "threshold": "threshold_schedule",
    "cadence_flow_factor": "cadence_flow_factor_schedule",
}


@dataclass(frozen=True)
class FrameMotion:
    """Evaluated motion and image-op values for one frame; defaults are the neutral (no-motion) values."""

    angle: float = 0.0
    zoom: float = 1.0
    translation_x: float = 0.0
    translation_y: float = 0.0
    translation_z: float = 0.0
    transform_center_x: float = 0.5
    transform_center_y: float = 0.5
    rotation_3d_x: float = 0.0
    rotation_3d_y: float = 0.0
    rotation_3d_z: float = 0.0
    perspective_flip_theta: float = 0.0
    perspective_flip_phi: float = 0.0
    perspective_flip_gamma: float = 0.0
    perspective_flip_fv: float = 53.0
    fov: float = 70.0
    near: float = 200.0
    far: float = 10000.0
    aspect_ratio: float = 1.0
    noise: float = 0.0
    contrast: float = 1.0
    amount: float = 0.0
    kernel: float = 5.0
    sigma: float = 1.0
    threshold: float = 0.0
    cadence_flow_factor: float = 1.0
    enable_perspective_flip: bool = False

    @classmethod
    def from_series(
        cls, series: Mapping[str, np.ndarray], frame: int, *, enable_perspective_flip: bool = False
    ) -> FrameMotion:
        """Pick frame ``frame`` from schedule series keyed by settings names (see ``SERIES_KEYS``)."""
        missing = [key for key in SERIES_KEYS.values() if key not in series]
        if missing:
            raise KeyError(f"motion series missing: {', '.join(missing)}")
        values = {name: float(series[key][frame]) for name, key in SERIES_KEYS.items()}
        return cls(**values, enable_perspective_flip=enable_perspective_flip)


def flip_matrix(motion: FrameMotion, width: int, height: int) -> np.ndarray | None:
    """The frame's perspective-flip homography, or None when perspective flip is off."""
    if not motion.enable_perspective_flip:
        return None
    return warp2d.perspective_flip_matrix(
        width, height, motion.perspective_flip_theta, motion.perspective_flip_phi,
        motion.perspective_flip_gamma, motion.perspective_flip_fv,
    )


def matrix_2d(motion: FrameMotion, width: int, height: int) -> np.ndarray:
    """The 3x3 matrix of a 2D-mode frame (perspective flip included)."""
    return warp2d.motion_matrix_2d(
        width, height, angle=motion.angle, zoom=motion.zoom, translation_x=motion.translation_x,
        translation_y=motion.translation_y, center_x=motion.transform_center_x,
        center_y=motion.transform_center_y, flip=flip_matrix(motion, width, height),
    )


def _apply_3d(
    image: np.ndarray, motion: FrameMotion, depth: np.ndarray | None, *, border: str, padding_mode: str,
    sampling_mode: str, aspect_ratio_use_old_formula: bool, depth_algorithm: str, device: str,
) -> np.ndarray:
    """The original's 3D frame warp: optional perspective flip (2D), then depth re-projection."""
    from deforum.animation.camera3d import motion_transforms
    from deforum.animation.warp3d import warp_image_3d

    height, width = image.shape[:2]
    flip = flip_matrix(motion, width, height)
    if flip is not None:
        image = warp2d.warp_perspective(image, flip, border)
    aspect_ratio = width / height if aspect_ratio_use_old_formula else motion.aspect_ratio
    still, moved = motion_transforms(
        (motion.rotation_3d_x, motion.rotation_3d_y, motion.rotation_3d_z),
        (motion.translation_x, motion.translation_y, motion.translation_z),
        motion.fov, aspect_ratio, motion.near, motion.far,
    )
    return warp_image_3d(
        image, depth_to_z(depth, depth_algorithm, (height, width)), still, moved,
        sampling_mode=sampling_mode, padding_mode=padding_mode,
        legacy_offset=depth_algorithm.lower() in LEGACY_ALGORITHMS, device=device,
    )


def apply_motion(
    image: np.ndarray,
    motion: FrameMotion,
    *,
    animation_mode: str,
    depth: np.ndarray | None = None,
    border: str = "replicate",
    padding_mode: str = "border",
    sampling_mode: str = "bicubic",
    aspect_ratio_use_old_formula: bool = False,
    depth_algorithm: str = "Midas-3-Hybrid",
    device: str = "cpu",
) -> np.ndarray:
    """Warp an H×W×C array (uint8 image or float field) by one frame's motion; "2D" or "3D" mode."""
    if animation_mode == "2D":
        height, width = image.shape[:2]
        return warp2d.warp_perspective(image, matrix_2d(motion, width, height), border)
    if animation_mode == "3D":
        return _apply_3d(
            image, motion, depth, border=border, padding_mode=padding_mode, sampling_mode=sampling_mode,
            aspect_ratio_use_old_formula=aspect_ratio_use_old_formula, depth_algorithm=depth_algorithm,
            device=device,
        )
    raise ValueError(f"apply_motion handles the '2D' and '3D' animation modes, not {animation_mode!r}")
