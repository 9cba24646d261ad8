"""Output-folder frame naming, crash-safe PNG writes, image loading, the test card and batch-name placeholders."""

from __future__ import annotations

import contextlib
import io
import logging
import numbers
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from deforum.media.remote import UrlInputError, localize
from deforum.models.errors import DeforumError

log = logging.getLogger(__name__)

PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY]
TEMP_SUFFIX = ".tmp"
PLACEHOLDER_VALUE_CHARS = 50
MAX_BATCH_NAME_BYTES = 255
UNSAFE_NAME_CHARS = re.compile(r'[<>:"/\\|?*\s,\x00-\x1f\x7f\ud800-\udfff]')
DOT_RUN = re.compile(r"\.{2,}")
PLACEHOLDER = re.compile(r"{(\w+)}")
TEMP_FILE = re.compile(r"^\..+\.[0-9a-z_]{8}" + re.escape(TEMP_SUFFIX) + r"$")

ImageLike = np.ndarray | Image.Image
PathLike = str | os.PathLike[str]


class ImageSourceError(DeforumError, RuntimeError):
    """An init/mask/colour-match image could not be loaded (bad path, missing file, URL, not an image)."""


def frame_filename(timestring: str, frame: int) -> str:
    """Name of an output frame: ``<timestring>_<frame:09>.png``."""
    return f"{timestring}_{_check_index(frame)}.png"


def depth_filename(timestring: str, frame: int) -> str:
    """Name of a saved depth map: ``<timestring>_depth_<frame:09>.png``."""
    return f"{timestring}_depth_{_check_index(frame)}.png"


def input_frame_filename(video_path: str, frame: int, extension: str = "jpg") -> str:
    """Name of an extracted video-input frame: ``<video file stem><frame:09>.jpg`` (the original's inputframes)."""
    return f"{Path(video_path).stem}{_check_index(frame)}.{extension}"


def _check_index(frame: int) -> str:
    """Zero-padded 9-digit frame index; negative indices are refused."""
    if frame < 0:
        raise ValueError(f"frame index must be >= 0, got {frame}")
    return f"{frame:09}"


def encode_png(image: ImageLike) -> bytes:
    """8-bit PNG bytes of an H×W, H×W×3 (RGB) or H×W×4 (RGBA) uint8 array, no metadata chunks, as PIL wrote them.

    OpenCV's libpng with Huffman-only deflate: the same decoded pixels as PIL's encoder at compress level 1, in
    about half the time on rendered frames and smaller files (filtered rows compress well without match search).
    """
    if isinstance(image, Image.Image):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)  # any PIL mode (P, I;16...) kept as it is
        return buffer.getvalue()
    array = _checked_array(image)
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR if array.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    ok, data = cv2.imencode(".png", np.ascontiguousarray(array), PNG_PARAMS)
    if not ok:
        raise OSError(f"OpenCV could not encode a {array.shape} image as PNG")
    return data.tobytes()


def write_png_atomic(path: PathLike, image: ImageLike, *, sync_folder: bool = True) -> None:
    """Write a PNG so that `path` is either absent/old or complete: temp file in the same folder, fsync, replace.

    `sync_folder=False` leaves the folder sync (which makes the rename itself durable) to the caller, who syncs
    once for many files.
    """
    target = Path(path)
    temp = write_png_temp(target, image)
    replace_from_temp(temp, target)
    if sync_folder:
        fsync_folder(target.parent)


def write_png_temp(target: Path, image: ImageLike, *, sync: bool = True) -> Path:
    """Encode `image` into a new hidden temp file beside `target` and fsync it (unless the caller syncs it later
    with `fsync_file`); returns the temp path."""
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    data = encode_png(image)
    try:
        with open(temp, "xb") as handle:
            handle.write(data)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
    except BaseException:
        discard_temp(temp)
        raise
    return temp


def replace_from_temp(temp: Path, target: Path) -> None:
    """Rename a finished temp file over `target` (the temp file is removed if that fails)."""
    try:
        os.replace(temp, target)
    except BaseException:
        discard_temp(temp)
        raise


def discard_temp(temp: Path) -> None:
    """Remove a temp file that will not be renamed into place."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)


def fsync_file(path: PathLike) -> None:
    """Flush a written file's data to disk (a no-op where a read-only handle cannot be synced)."""
    fsync_folder(path)


def fsync_folder(folder: PathLike) -> None:
    """Make a rename (or, given a file, its data) durable on POSIX; a no-op where it cannot be opened read-only."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def to_pil(image: ImageLike) -> Image.Image:
    """A PIL image from a uint8 H×W, H×W×3 or H×W×4 array (or a PIL image, returned as is)."""
    if isinstance(image, Image.Image):
        return image
    return Image.fromarray(np.ascontiguousarray(_checked_array(image)))


def _checked_array(image: np.ndarray) -> np.ndarray:
    """The image as an array, refused unless it is a uint8 H×W, H×W×3 or H×W×4 array."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise TypeError(f"expected a uint8 image array, got dtype {array.dtype}")
    if array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4)):
        return array
    raise ValueError(f"expected an H×W, H×W×3 or H×W×4 image, got shape {array.shape}")


def read_image(path: PathLike) -> np.ndarray:
    """Read an image file as an H×W×3 uint8 RGB array (RGBA, L, P and other modes are converted)."""
    with Image.open(path) as pil:
        return np.array(pil.convert("RGB"), dtype=np.uint8)


def load_image_source(
    path_or_url: str, size: tuple[int, int] | None = None, *, setting: str = "image path"
) -> np.ndarray:
    """Load an init/mask image from a local path or file:// URL as RGB uint8, resized (Lanczos) to (w, h) if given."""
    path = local_path(path_or_url, setting)
    if not path.is_file():
        raise ImageSourceError(
            f"{setting}: file not found: {path}. Check the path in the '{setting}' setting "
            "(relative paths are resolved from the current working folder)."
        )
    try:
        with Image.open(path) as pil:
            rgb = pil.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageSourceError(f"{setting}: {path} is not a readable image ({exc}).") from exc
    if size is not None and rgb.size != tuple(size):
        rgb = rgb.resize(tuple(size), resample=Image.LANCZOS)
    return np.array(rgb, dtype=np.uint8)


def local_path(path_or_url: str, setting: str) -> Path:
    """Resolve a setting value to a local path; an http(s) URL to its copy in the run's URL cache."""
    text = path_or_url.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    if not text:
        raise ImageSourceError(f"{setting}: no path given. Set '{setting}' to a local image file.")
    scheme = urlparse(text).scheme.lower()
    if scheme in ("http", "https"):
        try:
            return Path(localize(text, setting, "image"))
        except UrlInputError as err:
            raise ImageSourceError(str(err)) from None
    if scheme == "file":
        return Path(url2pathname(urlparse(text).path))
    return Path(text).expanduser()


def existing_frames(folder: PathLike, timestring: str) -> list[int]:
    """Sorted indices of the frames ``<timestring>_<9+ digits>.png`` in `folder` (temp files, depth maps ignored)."""
    pattern = re.compile(rf"^{re.escape(timestring)}_(\d{{9,}})\.png$")
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    found = (pattern.match(entry.name) for entry in entries if entry.is_file())
    return sorted(int(match.group(1)) for match in found if match)


def last_complete_frame(folder: PathLike, timestring: str) -> int | None:
    """Last index of the gap-free run of frames from 0 whose file is a complete PNG; None when frame 0 is missing."""
    frames = existing_frames(folder, timestring)
    run_end = -1
    for expected, frame in enumerate(frames):
        if frame != expected:
            break
        run_end = frame
    while run_end >= 0 and not _is_complete_png(Path(folder) / frame_filename(timestring, run_end)):
        log.warning("frame %d in %s is truncated or corrupt; resuming before it", run_end, folder)
        run_end -= 1
    return run_end if run_end >= 0 else None


def _is_complete_png(path: Path) -> bool:
    """Whether the file decodes as a whole PNG (chunk CRCs checked, image data fully read)."""
    try:
        with Image.open(path) as pil:
            pil.verify()
        with Image.open(path) as pil:
            pil.load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


def remove_stale_temp_files(folder: PathLike) -> int:
    """Delete temp files left by writers killed mid-write (``.<name>.<hex8>.tmp``); returns how many."""
    removed = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            if entry.is_file() and TEMP_FILE.match(entry.name):
                os.unlink(entry.path)
                removed += 1
    return removed


def test_card(width: int, height: int) -> np.ndarray:
    """A deterministic RGB test image: gradients, a grid, concentric circles, colour bars and an off-centre marker."""
    if width < 1 or height < 1:
        raise ValueError(f"test card size must be positive, got {width}×{height}")
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = x / max(width - 1, 1), y / max(height - 1, 1)
    card = np.stack([u, v, 1.0 - 0.5 * (u + v)], axis=-1) * 200.0 + 20.0
    cell = max(min(width, height) // 8, 4)
    card[(x.astype(int) % cell == 0) | (y.astype(int) % cell == 0)] = 235.0
    radius = np.hypot(x - width / 2, y - height / 2)
    card[(radius.astype(int) % max(cell, 8)) < 2] = (30.0, 30.0, 30.0)
    _paint_colour_bars(card, width, height)
    _paint_marker(card, width, height)
    return np.clip(card, 0, 255).astype(np.uint8)


test_card.__test__ = False  # a library function whose name pytest would otherwise collect


def _paint_colour_bars(card: np.ndarray, width: int, height: int) -> None:
    """Seven saturated colour patches along the bottom eighth (in place)."""
    colours = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255), (255, 0, 0), (0, 0, 255)]
    top = height - max(height // 8, 1)
    for i, colour in enumerate(colours):
        left, right = i * width // len(colours), (i + 1) * width // len(colours)
        card[top:, left:right] = colour


def _paint_marker(card: np.ndarray, width: int, height: int) -> None:
    """An asymmetric 'L'-shaped marker in the upper-left quadrant so flips and rotations are visible (in place)."""
    size = max(min(width, height) // 6, 2)
    left, top = width // 6, height // 6
    thick = max(size // 4, 1)
    card[top : top + size, left : left + thick] = (250.0, 60.0, 20.0)
    card[top + size - thick : top + size, left : left + size] = (250.0, 60.0, 20.0)


def substitute_batch_name(
    template: str, values: Mapping[str, Any], *, max_bytes: int = MAX_BATCH_NAME_BYTES
) -> str:
    """Fill ``{placeholder}``s (keys case-insensitive) and make the result one safe folder name."""
    lowered = {str(key).lower(): value for key, value in values.items()}
    filled = PLACEHOLDER.sub(lambda match: _placeholder_text(lowered, match.group(1).lower()), template)
    safe = UNSAFE_NAME_CHARS.sub("_", filled)
    safe = DOT_RUN.sub(lambda match: "_" * len(match.group()), safe)
    safe = _truncate_utf8(safe, max_bytes)
    return "_" if safe == "." else safe


def _placeholder_text(values: Mapping[str, Any], key: str) -> str:
    """One placeholder's text: unknown keys give their own name, empty values '_', dicts their first value."""
    value = values.get(key, key)
    if isinstance(value, Mapping) and value:
        first = next(iter(value.values()))
        value = first[0] if isinstance(first, list) and first else first
    elif not value and not (isinstance(value, numbers.Number) and not isinstance(value, bool)):
        value = "_"
    return str(value)[:PLACEHOLDER_VALUE_CHARS]


def _truncate_utf8(text: str, max_bytes: int) -> str:
    """Cut `text` so that its UTF-8 encoding fits in `max_bytes` (never splitting a character)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def frames_pattern(folder: PathLike, name_pattern: str) -> str:
    """`folder/name_pattern` for ffmpeg and %-formatting: a '%' in the folder (e.g. batch_name '50%off') is escaped."""
    return os.path.join(str(folder).replace("%", "%%"), name_pattern)
