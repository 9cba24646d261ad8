"""Hybrid-video motion: camera moves measured between video frames and applied to the animation's frames.

"Affine" and "Perspective" fit a RANSAC matrix to SIFT matches between two frames (Lowe ratio 0.75, more than
8 matches or the identity); "Optical Flow" measures dense flow with a consistency check (optional) whose
occlusion weight (−0.75 or 1, optionally blurred) multiplies the flow, as the original's hybrid motion did.
Frames are uint8 RGB; the original's BGR frames give the same grey images, matches and flows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from deforum.media.flow import estimate_flow, flow_consistency_mask, warp_by_flow

if TYPE_CHECKING:
    from deforum.media.flow import RaftFlow

MOTION_KINDS = ("None", "Optical Flow", "Perspective", "Affine")
MATRIX_KINDS = ("Perspective", "Affine")
LOWE_RATIO = 0.75
MIN_GOOD_MATCHES = 8
HOMOGRAPHY_REPROJECTION = 5.0
BLUR_TRUNCATE = 1.0
VISUALIZATION_STEP = 8


@dataclass(frozen=True)
class HybridFlow:
    """A hybrid flow (H×W×2, pixels, first image → second) and, with the consistency check, its H×W×3 map."""

    flow: np.ndarray
    reliability: np.ndarray | None = None


def resize_for_motion(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to (width, height) bilinearly, as the original's motion frames were (its INTER_AREA went unused)."""
    return cv2.resize(image, tuple(size), interpolation=cv2.INTER_LINEAR)


def identity_matrix(kind: str) -> np.ndarray:
    """The no-motion matrix: 3×3 for "Perspective", 2×3 for "Affine"."""
    return np.eye(3) if kind == "Perspective" else np.eye(2, 3)


def _grey(image: np.ndarray) -> np.ndarray:
    """A grey uint8 image from RGB (grey input passes through)."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def _good_matches(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """SIFT keypoints of both images matched by brute force and Lowe's ratio test; None with too few."""
    sift = cv2.SIFT_create()
    points_a, descriptors_a = sift.detectAndCompute(first, None)
    points_b, descriptors_b = sift.detectAndCompute(second, None)
    if descriptors_a is None or descriptors_b is None or len(descriptors_b) < 2:
        return None
    pairs = cv2.BFMatcher().knnMatch(descriptors_a, descriptors_b, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < LOWE_RATIO * p[1].distance]
    if len(good) <= MIN_GOOD_MATCHES:
        return None
    source = np.float32([points_a[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
    target = np.float32([points_b[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
    return source, target


def ransac_matrix(first: np.ndarray, second: np.ndarray, kind: str) -> np.ndarray:
    """Matrix moving `first`'s content onto `second`'s (homography or partial affine); identity if unmatched."""
    if kind not in MATRIX_KINDS:
        raise ValueError(f"hybrid matrix motion must be one of {MATRIX_KINDS}, got {kind!r}")
    matched = _good_matches(_grey(first), _grey(second))
    if matched is None:
        return identity_matrix(kind)
    if kind == "Perspective":
        matrix, _ = cv2.findHomography(*matched, cv2.RANSAC, HOMOGRAPHY_REPROJECTION)
    else:
        matrix, _ = cv2.estimateAffinePartial2D(*matched)
    return identity_matrix(kind) if matrix is None else matrix


def image_transform_ransac(image: np.ndarray, matrix: np.ndarray, kind: str) -> np.ndarray:
    """Warp an image by a hybrid matrix (bilinear, mirrored edges), perspective or affine by `kind`."""
    size = (image.shape[1], image.shape[0])
    if kind == "Perspective":
        return cv2.warpPerspective(image, matrix, size, borderMode=cv2.BORDER_REFLECT_101)
    return cv2.warpAffine(image, matrix, size, borderMode=cv2.BORDER_REFLECT_101)


def consistency_blur(reliability: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of each channel, radius int(sigma + 0.5), zeros outside: SciPy's filter at truncate=1."""
    radius = int(BLUR_TRUNCATE * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * offsets**2 / float(sigma) ** 2)
    kernel /= kernel.sum()
    blurred = cv2.sepFilter2D(reliability.astype(np.float64), cv2.CV_64F, kernel, kernel,
                              borderType=cv2.BORDER_CONSTANT)
    return blurred.reshape(reliability.shape).astype(np.float32)


def hybrid_flow(first: np.ndarray, second: np.ndarray, method: str, *, raft: RaftFlow | None = None,
                consistency: bool = False, blur: float = 0, initial: np.ndarray | None = None) -> HybridFlow:
    """Flow `first` → `second`, weighted by the (blurred) consistency check's occlusion channel when asked.

    `initial` (the previous hybrid flow) seeds the forward DIS estimate; the backward check starts afresh.
    """
    forward = estimate_flow(first, second, method, raft=raft, initial=initial)
    if not consistency:
        return HybridFlow(forward)
    reliability = flow_consistency_mask(forward, estimate_flow(second, first, method, raft=raft))
    if blur > 0:
        reliability = consistency_blur(reliability, blur)
    return HybridFlow(forward * reliability[..., :1], reliability)


def image_transform_optical_flow(image: np.ndarray, flow: np.ndarray, flow_factor: float) -> np.ndarray:
    """Move an image along `flow` scaled by `flow_factor` (the hybrid flow factor schedule)."""
    return warp_by_flow(image, flow * flow_factor if flow_factor != 1 else flow)


def flow_visualization(frame: np.ndarray, flow: np.ndarray, step: int = VISUALIZATION_STEP) -> np.ndarray:
    """The grey frame tinted by flow direction (hue) and speed (value), with an arrow every `step` pixels."""
    flow = np.asarray(flow, dtype=np.float32)
    height, width = flow.shape[:2]
    magnitude, angle = cv2.cartToPolar(flow[..., 0], flow[..., 1])
    hsv = np.zeros((height, width, 3), dtype=np.uint8)
    hsv[..., 0] = angle * 180 / np.pi / 2
    hsv[..., 1] = 255
    hsv[..., 2] = cv2.normalize(magnitude, None, 0, 255, cv2.NORM_MINMAX).reshape(height, width)
    tint = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    picture = cv2.add(cv2.cvtColor(_grey(frame), cv2.COLOR_GRAY2RGB), tint)
    ys, xs = np.mgrid[step / 2:height:step, step / 2:width:step].reshape(2, -1).astype(int)
    ends = np.int32(np.stack([xs + flow[ys, xs, 0], ys + flow[ys, xs, 1]], axis=1) + 0.5)
    for x, y, (x2, y2) in zip(xs, ys, ends):
        colour = tuple(int(c) for c in tint[y, x])
        cv2.arrowedLine(picture, (int(x), int(y)), (int(x2), int(y2)), colour, thickness=1, tipLength=0.1)
    return picture


def reliability_visualization(reliability: np.ndarray) -> np.ndarray:
    """The consistency map min-max scaled to uint8 with channel 0 shown blue, as the original saved it."""
    low, high = float(reliability.min()), float(reliability.max())
    if not high > low:
        return np.zeros(reliability.shape, dtype=np.uint8)
    scaled = ((reliability - low) / (high - low) * 255).astype(np.uint8)
    return np.ascontiguousarray(scaled[..., ::-1])
