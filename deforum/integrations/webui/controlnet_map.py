"""ControlNet units as the sd-webui-controlnet extension's `external_code.ControlNetUnit` takes them (pure data)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from deforum.integrations.features.controlnet import ControlNetError
from deforum.models.generation import ControlNetUnit

EXTENSION_URL = "https://github.com/Mikubill/sd-webui-controlnet"
# Where the WebUI keeps the extension's external code API (the original tried these two, in this order).
EXTERNAL_CODE_MODULES = ("extensions.sd-webui-controlnet.scripts.external_code",
                         "extensions-builtin.sd-webui-controlnet.scripts.external_code")
# The original ran each ControlNet generation with this WebUI option pointing into the run's folder.
DETECTED_MAP_OPTION = "control_net_detectedmap_dir"
DETECTED_MAP_FOLDER = "controlnet_detected_map"


def _image_field(unit: ControlNetUnit) -> np.ndarray | dict[str, np.ndarray]:
    """The control image, or {'image', 'mask'} when the unit has a mask (RGB uint8 arrays, as the original)."""
    image = np.ascontiguousarray(unit.image, dtype=np.uint8)
    if unit.mask is None:
        return image
    return {"image": image, "mask": np.ascontiguousarray(unit.mask, dtype=np.uint8)}


def to_external_code_kwargs(unit: ControlNetUnit) -> dict[str, Any]:
    """Keyword arguments for `external_code.ControlNetUnit(**kwargs)`, with the names and values the original sent.

    resize_mode and control_mode stay the UI's labels ('Inner Fit (Scale to Fit)', 'Balanced'...): the extension
    maps the old resize labels to its own ('Crop and Resize', 'Resize and Fill').
    """
    return {
        "enabled": True, "module": unit.module, "model": unit.model, "weight": float(unit.weight),
        "image": _image_field(unit), "resize_mode": unit.resize_mode, "control_mode": unit.control_mode,
        "low_vram": bool(unit.low_vram), "pixel_perfect": bool(unit.pixel_perfect),
        "processor_res": int(unit.processor_res), "threshold_a": float(unit.threshold_a),
        "threshold_b": float(unit.threshold_b), "guidance_start": float(unit.guidance_start),
        "guidance_end": float(unit.guidance_end),
    }


def require_extension(numbers: Sequence[int], external_code: Any | None) -> None:
    """Raise naming the units when ControlNet units are enabled but the ControlNet extension is not installed."""
    if numbers and external_code is None:
        listed = ", ".join(str(number) for number in numbers)
        raise ControlNetError(
            f"Setting 'cn_{numbers[0]}_enabled': ControlNet unit(s) {listed} are enabled but the ControlNet "
            f"extension (sd-webui-controlnet) is not installed. Install it from {EXTENSION_URL} and restart the "
            "WebUI, or disable the unit(s) in the ControlNet tab.")
