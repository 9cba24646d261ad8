"""Optical flow: DIS, Farneback and RAFT estimates, flow warping, consistency masks, optical-flow cadence.

Flows are H×W×2 float32 arrays of (dx, dy) in pixels from the first image to the second. RAFT weights are read
from the models folder, downloaded there on first use unless offline (``config.fetch``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from deforum.config.fetch import find_or_download_file
from deforum.config.weights import WeightsFile, WeightsMissing
from deforum.media.image_ops import blend

if TYPE_CHECKING:
    import torch

FLOW_METHODS = ("RAFT", "DIS Medium", "DIS Fine", "Farneback")
WARM_STARTED_FLOWS = ("DIS Medium", "DIS Fine")
RAFT_WEIGHTS_FILE = "raft_large_C_T_SKHT_V2-ff5fadd5.pth"
RAFT_FLOW_UPDATES = 50
RAFT_MIN_SIDE = 128
FLOW_PADDING = 0.25
RAFT_WEIGHTS = WeightsFile("RAFT-large (torchvision Raft_Large_Weights.C_T_SKHT_V2)", (RAFT_WEIGHTS_FILE,),
                           ("Deforum",), f"https://download.pytorch.org/models/{RAFT_WEIGHTS_FILE}", catalog="raft")


class RaftWeightsMissingError(WeightsMissing):
    """The RAFT weights file is not where Deforum looks for it."""


def raft_weights_path(models_dir: str | Path) -> Path:
    """Where Deforum expects the RAFT weights: ``<models>/Deforum/raft_large_C_T_SKHT_V2-ff5fadd5.pth``."""
    return Path(models_dir) / "Deforum" / RAFT_WEIGHTS_FILE


def find_raft_weights(models_dir: str | Path | None = None) -> Path:
    """The first ``<models>/Deforum/<RAFT file>`` over the models folders, downloaded there when absent."""
    try:
        return find_or_download_file(RAFT_WEIGHTS, models_dir)
    except WeightsMissing as err:
        raise RaftWeightsMissingError(str(err)) from None


class RaftFlow:
    """RAFT-large flow estimator (torchvision), 50 refinement updates as the original used."""

    def __init__(self, model: torch.nn.Module, device: torch.device) -> None:
        """Wrap an evaluated torchvision RAFT model living on ``device``."""
        self.model = model
        self.device = device

    def flow(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Flow from ``a`` to ``b`` (uint8 RGB), fed in BGR order like the original.

        Frames are edge-padded at the bottom/right to RAFT's minimum (sides multiples of 8, at least 128) and
        the flow cropped back; frames that already fit run unpadded, as in the original.
        """
        import torch

        height, width = a.shape[:2]
        pad = [(0, max(RAFT_MIN_SIDE, -(-side // 8) * 8) - side) for side in (height, width)]
        pair = np.pad(np.stack([a[..., ::-1], b[..., ::-1]]), [(0, 0), *pad, (0, 0)], mode="edge")
        frames = torch.from_numpy(pair).permute(0, 3, 1, 2).to(device=self.device, dtype=torch.float32)
        frames = (frames / 255 - 0.5) / 0.5
        with torch.no_grad():
            predictions = self.model(frames[:1], frames[1:], num_flow_updates=RAFT_FLOW_UPDATES)
        return predictions[-1][0].permute(1, 2, 0)[:height, :width].contiguous().cpu().numpy()


def load_raft(weights_path: str | Path, *, device: str = "cpu") -> RaftFlow:
    """Build torchvision's RAFT-large and load its weights from the file ``weights_path``."""
    path = Path(weights_path)
    if not path.is_file():
        raise RaftWeightsMissingError(
            f"RAFT weights not found at {path}. Place torchvision's {RAFT_WEIGHTS_FILE} "
            f"(Raft_Large_Weights.C_T_SKHT_V2) there, i.e. <models>/Deforum/{RAFT_WEIGHTS_FILE}."
        )
    import torch
    from torchvision.models.optical_flow import raft_large

    model = raft_large(weights=None, progress=False)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return RaftFlow(model.to(device).eval(), torch.device(device))


def _dis(gray_a: np.ndarray, gray_b: np.ndarray, fine: bool, initial: np.ndarray | None) -> np.ndarray:
    """DIS flow: OpenCV's medium preset, or the original's "fine" tuning of the default preset.

    A flow of the frame's size in ``initial`` is DIS's starting estimate (it is copied, not overwritten).
    """
    start = None
    if initial is not None and initial.shape == (*gray_a.shape, 2):
        start = np.array(initial, dtype=np.float32, order="C")
    if not fine:
        return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(gray_a, gray_b, start)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    dis.setGradientDescentIterations(192)
    dis.setFinestScale(0)
    dis.setPatchSize(8)
    dis.setPatchStride(4)
    return dis.calc(gray_a, gray_b, start)


def estimate_flow(a: np.ndarray, b: np.ndarray, method: str, *, raft: RaftFlow | None = None,
                  initial: np.ndarray | None = None) -> np.ndarray:
    """Flow from ``a`` to ``b`` (uint8 RGB) by "RAFT", "DIS Medium", "DIS Fine" or "Farneback".

    The DIS methods start from ``initial`` when it is a flow of the frames' size (the original warm-started
    hybrid motion's DIS from the previous frame's flow); RAFT and Farneback ignore it, as the original did.
    """
    if method == "RAFT":
        if raft is None:
            raise ValueError("RAFT flow needs a model: pass raft=load_raft(path)")
        return raft.flow(a, b)
    if method not in FLOW_METHODS:
        raise ValueError(f"flow method must be one of {FLOW_METHODS}, got {method!r}")
    gray_a, gray_b = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    if method == "Farneback":
        return cv2.calcOpticalFlowFarneback(gray_a, gray_b, None, 0.5, 5, 21, 5, 7, 1.2, 0)
    return _dis(gray_a, gray_b, fine=method == "DIS Fine", initial=initial)


def warp_by_flow(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Pull ``image`` back along ``flow`` (sample at ``p − flow``), bilinear, mirrored (reflect-101) edges.

    Like the original, the frame is first padded by a quarter of each side, so far-off samples reflect off
    the padded frame's border.
    """
    height, width = image.shape[:2]
    pad_y, pad_x = int(height * FLOW_PADDING), int(width * FLOW_PADDING)
    padded = cv2.copyMakeBorder(image, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REFLECT_101)
    sample_at = -flow
    sample_at[..., 0] += np.arange(width)
    sample_at[..., 1] += np.arange(height)[:, None]
    sample_at[..., 0] += pad_x
    sample_at[..., 1] += pad_y
    return cv2.remap(padded, sample_at.astype(np.float32), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def _bilinear_at(field: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Bilinear samples of an H×W×2 field at float coordinates already clipped to [0, H−2] × [0, W−2]."""
    y0, x0 = np.floor(y).astype(np.intp), np.floor(x).astype(np.intp)
    ay, ax = (y - y0)[..., None], (x - x0)[..., None]
    top = (1 - ax) * field[y0, x0] + ax * field[y0, x0 + 1]
    bottom = (1 - ax) * field[y0 + 1, x0] + ax * field[y0 + 1, x0 + 1]
    return (1 - ay) * top + ay * bottom


def flow_consistency_mask(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Forward/backward check (Ruder et al.) as the original's ``make_consistency``: H×W×3 float32.

    Channel 0 is -0.75 where the backward flow does not bring a pixel back (occlusion) and 1 elsewhere;
    channel 1 is 1 (frame edges are not marked); channel 2 is 0 on motion edges and 1 elsewhere.
    """
    forward, backward = forward.astype(np.float64), backward.astype(np.float64)
    height, width = forward.shape[:2]
    rows, cols = np.mgrid[:height, :width]
    landed_x, landed_y = cols + forward[..., 0], rows + forward[..., 1]
    returned = _bilinear_at(backward, np.clip(landed_y, 0, height - 2), np.clip(landed_x, 0, width - 2))
    error = (landed_x + returned[..., 0] - cols) ** 2 + (landed_y + returned[..., 1] - rows) ** 2
    tolerance = 0.01 * ((returned**2).sum(axis=2) + (forward**2).sum(axis=2)) + 0.5
    dx = np.diff(forward, axis=1, append=0)
    dy = np.diff(forward, axis=0, append=0)
    motion_edge = (dx**2 + dy**2).sum(axis=2) > 0.01 * (forward**2).sum(axis=2) + 0.002
    mask = np.ones((height, width, 3), dtype=np.float32)
    mask[..., 0] = np.where(error >= tolerance, -0.75, 1.0)
    mask[..., 2] = np.where(motion_edge, 0.0, 1.0)
    return mask


def flow_to_relative(flow: np.ndarray) -> np.ndarray:
    """Flow scaled so its largest component is 1 pixel, divided by width/height (all zeros stays zeros)."""
    height, width = flow.shape[:2]
    peak = max(np.abs(flow[..., 0]).max(), np.abs(flow[..., 1]).max())
    if peak == 0:
        return np.zeros_like(flow)
    return np.dstack((flow[..., 0] / (peak * width), flow[..., 1] / (peak * height)))


def relative_to_flow(relative: np.ndarray) -> np.ndarray:
    """Inverse-looking partner of ``flow_to_relative``: scales by width/height times the peak pixel component."""
    height, width = relative.shape[:2]
    peak = max(np.abs(relative[..., 0] * width).max(), np.abs(relative[..., 1] * height).max())
    return np.dstack((relative[..., 0] * (peak * width), relative[..., 1] * (peak * height)))


def cadence_flow_start(
    prev_image: np.ndarray, next_image: np.ndarray, method: str, *, raft: RaftFlow | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Optical-flow cadence setup: (half the prev→next flow, next image pulled back by that half)."""
    half = estimate_flow(prev_image, next_image, method, raft=raft) / 2
    return half, warp_by_flow(next_image, -half)


def cadence_flow_blend(
    prev_image: np.ndarray | None,
    next_image: np.ndarray,
    relative_flow: np.ndarray,
    tween: float,
    flow_factor: float,
    *,
    advance_prev: bool = True,
    advance_next: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """One optical-flow cadence tween: (new prev image, new next image, the in-between frame).

    The original's loop, per tween after ``cadence_flow_start``: warp both images by the tween's motion, then
    ``relative = apply_motion(flow_to_relative(flow), ...)`` and keep ``relative`` as the next tween's
    ``flow``; then call this. Both images advance along ``relative_to_flow(relative) · tween · flow_factor``
    (a field whose largest component is ``tween · flow_factor`` pixels) and blend by ``tween``.
    """
    increment = relative_to_flow(relative_flow) * tween
    if flow_factor != 1:
        increment = increment * flow_factor
    if advance_prev and prev_image is not None:
        prev_image = warp_by_flow(prev_image, increment)
    if advance_next:
        next_image = warp_by_flow(next_image, increment)
    if prev_image is None or tween >= 1.0:
        return prev_image, next_image, next_image.copy()
    return prev_image, next_image, blend(prev_image, next_image, tween)
