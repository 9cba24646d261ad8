"""What the render and the Wan worker process say to each other: JSON lines, with images and arrays as files.

Each message is one JSON object on one line (render → worker on the worker's stdin, worker → render on a stdout
kept for messages only). Pipeline arguments travel as JSON, PIL images as PNG files and arrays as .npy files in
an exchange folder both processes can read; a torch generator travels as its seed.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image

Message = dict[str, Any]


def send(stream: IO[str], message: Message) -> None:
    """Write one message as a JSON line and flush."""
    stream.write(json.dumps(message) + "\n")
    stream.flush()


def parse(line: str) -> Message:
    """One JSON line back to its message (ValueError when it is not one)."""
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError(f"not a message: {line[:200]!r}")
    return message


def _new_file(folder: Path, suffix: str) -> Path:
    """A fresh file name in the exchange folder."""
    return folder / f"{uuid.uuid4().hex}{suffix}"


def encode(value: Any, folder: Path) -> Any:
    """A pipeline argument as JSON: PIL images to PNG files, arrays to .npy files, generators to their seed."""
    if isinstance(value, Image.Image):
        path = _new_file(folder, ".png")
        value.save(path)
        return {"__png__": str(path)}
    if isinstance(value, np.ndarray):
        path = _new_file(folder, ".npy")
        np.save(path, value, allow_pickle=False)
        return {"__npy__": str(path)}
    if type(value).__name__ == "Generator" and hasattr(value, "initial_seed"):
        return {"__generator__": int(value.initial_seed()), "device": str(value.device)}
    if isinstance(value, (list, tuple)):
        return [encode(item, folder) for item in value]
    if isinstance(value, dict):
        return {"__dict__": {str(k): encode(v, folder) for k, v in value.items()}}
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"a Wan pipeline argument of type {type(value).__name__} cannot cross to the worker")


def decode(value: Any) -> Any:
    """The inverse of encode (the generator comes back as a seeded torch.Generator)."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "__png__" in value:
        with Image.open(value["__png__"]) as image:
            return image.copy()
    if "__npy__" in value:
        return np.load(value["__npy__"], allow_pickle=False)
    if "__generator__" in value:
        import torch

        return torch.Generator(value["device"]).manual_seed(value["__generator__"])
    return {key: decode(item) for key, item in value["__dict__"].items()}


def save_frames(frames: Any, folder: Path) -> str:
    """Write a pipeline's frames (F×H×W×3 floats) as float32 .npy; returns the path."""
    path = _new_file(folder, ".npy")
    np.save(path, np.asarray(frames, dtype=np.float32), allow_pickle=False)
    return str(path)
