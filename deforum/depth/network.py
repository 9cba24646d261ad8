"""A depth network with its preprocessing: RGB uint8 frames in, relative inverse depth out.

Depth-Anything-V2 runs on our own network (dav2_net) whatever transformers is installed; MiDaS runs on
transformers' DPT, which every WebUI's transformers has.
"""

from __future__ import annotations

import gc
import logging
import math
from collections.abc import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from deforum.config.weights import default_device
from deforum.depth.algorithms import DepthModelSpec
from deforum.depth.locate import WeightsSource

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 4




def _multiple(value: float, multiple: int, minimum: int = 0) -> int:
    """``value`` rounded to a multiple of ``multiple``, rounded up instead when below ``minimum`` (at least one)."""
    result = int(round(value / multiple) * multiple)
    if result < minimum:
        result = int(math.ceil(value / multiple) * multiple)
    return max(result, multiple)


def network_input_size(height: int, width: int, spec: DepthModelSpec, square: bool = False) -> tuple[int, int]:
    """The (h, w) a frame is resized to: aspect kept, sides multiples of the patch grid (the models' own rule).

    "lower_bound" (Depth-Anything): both sides at least ``input_size``. "minimal" (MiDaS, as the original ran
    it): the side whose scale is closest to 1 lands on ``input_size``. ``square``: input_size × input_size (the
    DPT-Hybrid model in transformers takes nothing else).
    """
    if square:
        return spec.input_size, spec.input_size
    scale_h, scale_w = spec.input_size / height, spec.input_size / width
    if spec.resize_method == "lower_bound":
        scale = max(scale_h, scale_w)
        minimum = spec.input_size
    else:
        scale = scale_w if abs(1 - scale_w) < abs(1 - scale_h) else scale_h
        minimum = 0
    return (_multiple(scale * height, spec.multiple_of, minimum), _multiple(scale * width, spec.multiple_of, minimum))


def prepare_image(image: np.ndarray, size: tuple[int, int], spec: DepthModelSpec) -> np.ndarray:
    """One frame as the network's normalised C×H×W float32 input (scaled to [0, 1], bicubic resize).

    MiDaS gets the channels in BGR order: the original handed it OpenCV frames, and its depth follows that.
    """
    scaled = (image[..., ::-1] if spec.bgr_input else image).astype(np.float32) / 255.0
    resized = cv2.resize(scaled, (size[1], size[0]), interpolation=cv2.INTER_CUBIC)
    normalised = (resized - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    return np.ascontiguousarray(normalised.transpose(2, 0, 1))


def load_model(spec: DepthModelSpec, source: WeightsSource) -> torch.nn.Module:
    """The network of ``spec`` from a local folder (offline) or a single original checkpoint file.

    Depth-Anything-V2: our own network from a ``-hf`` folder or an official .pth. MiDaS: transformers' DPT from
    a folder or from the original extension's checkpoint.
    """
    if spec.model_type == "depth_anything":
        from deforum.depth.dav2_weights import load_hf_folder, load_official

        return load_official(source.path) if source.kind == "original" else load_hf_folder(source.path)
    if source.kind == "original":
        from deforum.depth.convert_midas import load_original_midas

        return load_original_midas(source.path)
    from transformers import DPTForDepthEstimation

    return DPTForDepthEstimation.from_pretrained(str(source.path), local_files_only=True).eval()


def _reassemble(stage: torch.nn.Module, hidden_states: list[torch.Tensor],
                grid: tuple[int, int]) -> list[torch.Tensor]:
    """transformers' DPT reassemble stage on a ``grid`` of patches (its older versions assume a square grid)."""
    out = []
    for index, hidden in enumerate(hidden_states):
        if index not in stage.neck_ignore_stages:
            cls_token, tokens = hidden[:, 0], hidden[:, 1:]
            feature = tokens.reshape(tokens.shape[0], *grid, tokens.shape[2]).permute(0, 3, 1, 2).contiguous()
            if stage.config.readout_type == "project":
                flat = feature.flatten(2).permute(0, 2, 1)
                projected = stage.readout_projects[index](torch.cat((flat, cls_token.unsqueeze(1).expand_as(flat)), -1))
                feature = projected.permute(0, 2, 1).reshape(feature.shape)
            elif stage.config.readout_type == "add":
                feature = (feature.flatten(2) + cls_token.unsqueeze(-1)).reshape(feature.shape)
            hidden = stage.layers[index](feature)
        out.append(hidden)
    return out


def dpt_depth(model: torch.nn.Module, pixels: torch.Tensor) -> torch.Tensor:
    """DPTForDepthEstimation's forward pass with the patch grid known to the neck, so non-square frames work.

    transformers' own forward assumes a square grid for its ViT backbones (dpt-large, dpt-hybrid-midas); the
    original ran MiDaS on aspect-preserving multiples of 32, so the stages are called here directly (the same way
    in the WebUI's transformers 4.30 and in current ones).
    """
    config, neck = model.config, model.neck
    outputs = model.dpt(pixels, output_hidden_states=True, return_dict=True)
    features = list(outputs.intermediate_activations or []) if config.is_hybrid else []
    skip = 2 if config.is_hybrid else 0
    features += [hidden for index, hidden in enumerate(outputs.hidden_states[1:])
                 if index in config.backbone_out_indices[skip:]]
    grid = (pixels.shape[2] // config.patch_size, pixels.shape[3] // config.patch_size)
    if getattr(neck, "reassemble_stage", None) is not None:
        features = _reassemble(neck.reassemble_stage, features, grid)
    return model.head(neck.fusion_stage([conv(feature) for conv, feature in zip(neck.convs, features)]))


class DepthNetwork:
    """A loaded depth model on one device; ``infer`` batches frames of equal size."""

    def __init__(self, model: torch.nn.Module, spec: DepthModelSpec, device: str, half: bool,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.spec = spec
        self.device = torch.device(device)
        self.dtype = torch.float16 if half else torch.float32
        self.batch_size = max(int(batch_size), 1)
        self.model: torch.nn.Module | None = model.to(device=self.device, dtype=self.dtype).eval()
        self.square_input = bool(getattr(model.config, "is_hybrid", False))

    @classmethod
    def load(cls, spec: DepthModelSpec, source: WeightsSource, device: str | None = None,
             half: bool | None = None) -> DepthNetwork:
        """Load ``spec`` from ``source``; fp16 by default on CUDA (never on CPU, where it is slow or missing)."""
        device = device or default_device()
        device_type = torch.device(device).type
        if half is None:
            half = device_type == "cuda"
        elif half and device_type == "cpu":
            log.info("Half precision is not used for depth on the CPU; running in float32.")
            half = False
        log.info("Loading depth model %s from %s on %s%s.", spec.name, source.path, device, " (fp16)" if half else "")
        return cls(load_model(spec, source), spec, device, half)

    def infer(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Relative inverse depth (larger = nearer) of each RGB uint8 frame, float32 at the frame's size."""
        if self.model is None:
            raise RuntimeError("This depth model was closed; load it again.")
        results: list[np.ndarray | None] = [None] * len(images)
        groups: dict[tuple[int, int], list[int]] = {}
        for index, image in enumerate(images):
            groups.setdefault(tuple(image.shape[:2]), []).append(index)
        for shape, indices in groups.items():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start:start + self.batch_size]
                for index, depth in zip(chunk, self._forward([images[i] for i in chunk], shape)):
                    results[index] = depth
        return [r for r in results if r is not None]

    def _forward(self, images: Sequence[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
        """One forward pass over frames of the same size; depth resized back to ``shape``."""
        size = network_input_size(shape[0], shape[1], self.spec, square=self.square_input)
        batch = np.stack([prepare_image(image, size, self.spec) for image in images])
        pixels = torch.from_numpy(batch).to(device=self.device, dtype=self.dtype)
        with torch.inference_mode():
            predicted = self._predict(pixels).float()
            resized = F.interpolate(predicted.unsqueeze(1), size=shape, mode=self.spec.upsample,
                                    align_corners=self.spec.upsample == "bilinear")
        return resized[:, 0].cpu().numpy().astype(np.float32, copy=False)

    def _predict(self, pixels: torch.Tensor) -> torch.Tensor:
        """The model's depth (B×h×w) for a normalised batch; DPT runs stage by stage to allow non-square input."""
        if self.spec.model_type == "depth_anything":
            return self.model(pixels)
        return dpt_depth(self.model, pixels)

    def close(self) -> None:
        """Free the model (and the CUDA cache when it lived on the GPU)."""
        if self.model is None:
            return
        self.model = None
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
