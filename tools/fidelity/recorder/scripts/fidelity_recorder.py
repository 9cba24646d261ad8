"""A WebUI extension script that records every img2img/txt2img call Deforum makes (tools/fidelity only).

Placed into a host copy's extensions/ by tools/fidelity/record.py; never part of the deforum package. With
FIDELITY_RECORD_DIR set it wraps `modules.processing.process_images` (and the original Deforum's motion-preview
stand-in, `deforum_helpers.generate.mock_process_images`) and writes, per call, the init image handed in
(`<frame>_<call>_in.png`), the image returned (`<frame>_<call>_out.png`) and one JSON line of the call's
parameters to calls.jsonl. The frame index is read from the caller's `generate_inner(..., frame)`.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

from modules import processing, script_callbacks

RECORD_DIR = os.environ.get("FIDELITY_RECORD_DIR")
_FIELDS = ("seed", "subseed", "subseed_strength", "denoising_strength", "steps", "cfg_scale", "sampler_name",
           "prompt", "negative_prompt", "width", "height")


def _generate_frame() -> int | None:
    """The `frame` argument of the nearest generate_inner on the stack (None outside Deforum)."""
    frame = inspect.currentframe()
    while frame is not None:
        if frame.f_code.co_name == "generate_inner":
            return int(frame.f_locals.get("frame", -1))
        frame = frame.f_back
    return None


def _next_stem(folder: Path, frame: int) -> str:
    """`<frame:05>_<n>` for the n-th call of this frame."""
    count = len(list(folder.glob(f"{frame:05}_*_out.png")))
    return f"{frame:05}_{count}"


def _record(p, init_image, result, kind: str) -> None:
    """Write the call's init image, returned image and parameters."""
    frame = _generate_frame()
    if RECORD_DIR is None or frame is None:
        return
    folder = Path(RECORD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    stem = _next_stem(folder, frame)
    if init_image is not None:
        init_image.save(folder / f"{stem}_in.png")
    result.images[0].save(folder / f"{stem}_out.png")
    row = {"frame": frame, "stem": stem, "kind": kind, "has_init": init_image is not None}
    row.update({name: getattr(p, name, None) for name in _FIELDS})
    with open(folder / "calls.jsonl", "a", encoding="utf-8") as stream:
        stream.write(json.dumps(row, default=str) + "\n")


def _wrap_process_images(original):
    def process_images(p, *args, **kwargs):
        images = getattr(p, "init_images", None)
        init = images[0].copy() if images and images[0] is not None else None
        result = original(p, *args, **kwargs)
        _record(p, init, result, "process_images")
        return result
    process_images.fidelity_wrapped = True
    return process_images


def _wrap_mock(original):
    def mock_process_images(args, p, init_image):
        init = init_image.copy() if init_image is not None else None
        result = original(args, p, init_image)
        _record(p, init, result, "motion_preview")
        return result
    mock_process_images.fidelity_wrapped = True
    return mock_process_images


def _install(*_args) -> None:
    """Wrap the WebUI's process_images and, when the original Deforum is loaded, its preview stand-in."""
    if not getattr(processing.process_images, "fidelity_wrapped", False):
        processing.process_images = _wrap_process_images(processing.process_images)
    try:
        import deforum_helpers.generate as generate
    except ImportError:
        return
    if not getattr(generate.mock_process_images, "fidelity_wrapped", False):
        generate.mock_process_images = _wrap_mock(generate.mock_process_images)


if RECORD_DIR:
    script_callbacks.on_app_started(_install)
