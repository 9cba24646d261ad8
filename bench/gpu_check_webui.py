"""The GPU check's comparison with a running WebUI on the same seed: frame 0 through `/sdapi/v1/txt2img`, the whole
run through Deforum's `/deforum_api` (when the WebUI was started with `--deforum-api` and its output is readable
here). The WebUI draws its noise with randn_source "CPU" for the comparison, as the standalone renderer does."""

from __future__ import annotations

import base64
import io
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

REQUEST_TIMEOUT_S = 600.0
RUN_TIMEOUT_S = 3600.0
POLL_S = 2.0
CFG_SCALE = 7.0


def call(url: str, payload: dict[str, Any] | None = None, timeout: float = REQUEST_TIMEOUT_S) -> Any:
    """GET (no payload) or POST JSON; the decoded JSON answer."""
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - a URL the user gave
        return json.loads(answer.read().decode("utf-8"))


def difference(ours: np.ndarray, theirs: np.ndarray) -> dict[str, float]:
    """Mean absolute difference (0..255) and PSNR (dB) of two uint8 H×W×3 images of one size."""
    if ours.shape != theirs.shape:
        raise ValueError(f"frame sizes differ: ours {ours.shape}, the WebUI's {theirs.shape}")
    delta = ours.astype(np.float64) - theirs.astype(np.float64)
    mse = float(np.mean(delta**2))
    psnr = float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
    return {"mean_abs": float(np.mean(np.abs(delta))), "psnr_db": psnr}


def read_rgb(path: Path) -> np.ndarray:
    """An image file as uint8 RGB."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def overrides(checkpoint: str) -> dict[str, Any]:
    """The WebUI options of the comparison: the same checkpoint, noise drawn on the CPU."""
    return {"sd_model_checkpoint": Path(checkpoint).name, "randn_source": "CPU"}


def txt2img_difference(url: str, checkpoint: str, settings: Any, frame0: Path) -> dict[str, float]:
    """The WebUI's txt2img of frame 0's prompt and seed against our frame 0."""
    from deforum.prompt.schedule import split_negative

    prompt, negative = (part.strip() for part in split_negative(settings.prompts["0"]))
    payload = {"prompt": prompt, "negative_prompt": negative, "seed": settings["seed"], "steps": settings["steps"],
               "cfg_scale": CFG_SCALE, "width": settings["W"], "height": settings["H"],
               "sampler_name": settings["sampler"], "scheduler": settings["scheduler"],
               "override_settings": overrides(checkpoint),
               "override_settings_restore_afterwards": True}
    answer = call(f"{url.rstrip('/')}/sdapi/v1/txt2img", payload)
    with Image.open(io.BytesIO(base64.b64decode(answer["images"][0]))) as image:
        theirs = np.asarray(image.convert("RGB"))
    return difference(read_rgb(frame0), theirs)


def deforum_run_frames(url: str, checkpoint: str, settings: Any) -> list[Path]:
    """Render the same settings with the WebUI's Deforum API; its frames (they must be readable here)."""
    base = url.rstrip("/")
    accepted = call(f"{base}/deforum_api/batches", {"deforum_settings": settings.to_flat(),
                                                     "options_overrides": overrides(checkpoint)})
    job_id = accepted["job_ids"][0]
    deadline = time.monotonic() + RUN_TIMEOUT_S
    status = call(f"{base}/deforum_api/jobs/{job_id}")
    while status["status"] == "ACCEPTED" and time.monotonic() < deadline:
        time.sleep(POLL_S)
        status = call(f"{base}/deforum_api/jobs/{job_id}")
    if status["status"] != "SUCCEEDED":
        raise RuntimeError(f"the WebUI's job {job_id} ended {status['status']}: {status.get('message')}")
    outdir = Path(status["outdir"])
    frames = sorted(outdir.glob(f"{status['timestring']}_[0-9]*.png"))
    if not frames:
        raise RuntimeError(f"the WebUI's frames in {outdir} are not readable here")
    return frames


def run_difference(url: str, checkpoint: str, settings: Any, ours: list[Path]) -> dict[str, Any]:
    """Per-frame differences between our run and the WebUI's Deforum run of the same settings."""
    theirs = deforum_run_frames(url, checkpoint, settings)
    pairs = list(zip(ours, theirs, strict=False))
    per_frame = [difference(read_rgb(a), read_rgb(b))["mean_abs"] for a, b in pairs]
    return {"frames_compared": len(pairs), "mean_abs_per_frame": per_frame,
            "first": per_frame[0], "last": per_frame[-1], "max": max(per_frame)}


def compare_with_webui(url: str, case: Any, settings: Any, result: Any) -> dict[str, Any]:
    """The comparison's numbers and a one-line text per part (the reason when a part could not run)."""
    outdir = Path(result.outdir)
    ours = sorted(outdir.glob(f"{result.timestring}_[0-9]*.png"))
    found: dict[str, Any] = {}
    try:
        found["txt2img_numbers"] = txt2img_difference(url, case.checkpoint, settings, ours[0])
        numbers = found["txt2img_numbers"]
        found["txt2img"] = f"mean abs {numbers['mean_abs']:.2f}, PSNR {numbers['psnr_db']:.1f} dB"
    except (OSError, urllib.error.URLError, KeyError, ValueError) as err:
        found["txt2img"] = f"not compared: {err}"
    try:
        found["run_numbers"] = run_difference(url, case.checkpoint, settings, ours)
        numbers = found["run_numbers"]
        found["run"] = (f"{numbers['frames_compared']} frames, mean abs first {numbers['first']:.2f}, "
                        f"last {numbers['last']:.2f}, max {numbers['max']:.2f}")
    except (OSError, urllib.error.URLError, KeyError, ValueError, RuntimeError) as err:
        found["run"] = f"not compared: {err}"
    return found
