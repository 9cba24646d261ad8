"""Lazy frame sources (image files, an ffmpeg rawvideo pipe) and a bounded, threaded PNG writer."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np

from deforum.media.frames_io import existing_frames, frame_filename
from deforum.media.video import STDERR_TAIL_CHARS, VideoError, count_video_frames, ffmpeg_path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
PNG_COMPRESSION = 1
WRITER_THREADS = 2
WRITER_QUEUE = 8
PATTERN_INDEX = re.compile(r"%0?(\d*)d")


@dataclass(frozen=True)
class FrameSource:
    """A sequence of RGB uint8 frames of one size, of known length, decoded lazily by ``frames()``."""

    count: int
    width: int
    height: int
    frames: Callable[[], Iterator[np.ndarray]]
    name: str


def read_rgb(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as H×W×3 RGB uint8 (alpha dropped, 16-bit reduced)."""
    import cv2

    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ValueError(f"Cannot read image {path}: not a readable image file.")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def files_source(paths: Sequence[str | os.PathLike[str]], name: str) -> FrameSource:
    """Frames read one by one from image files (every file must have the first one's size)."""
    if not paths:
        raise ValueError(f"No frames found for {name}.")
    height, width = read_rgb(paths[0]).shape[:2]

    def frames() -> Iterator[np.ndarray]:
        """Decode each file when it is needed."""
        for path in paths:
            image = read_rgb(path)
            if image.shape[:2] != (height, width):
                raise ValueError(f"{path} is {image.shape[1]}×{image.shape[0]} but the first frame is "
                                 f"{width}×{height}: every frame must have the same size.")
            yield image

    return FrameSource(len(paths), width, height, frames, name)


def render_frame_paths(folder: str | os.PathLike[str], timestring: str) -> list[Path]:
    """The render's frames ``<timestring>_<n:09>.png`` from 0 up to the first gap."""
    frames = existing_frames(folder, timestring)
    count = next((i for i, frame in enumerate(frames) if frame != i), len(frames))
    return [Path(folder) / frame_filename(timestring, i) for i in range(count)]


def pattern_paths(pattern: str) -> tuple[list[Path], int]:
    """Files of a ``%09d``-style pattern: (the consecutive run from the lowest index found, that index)."""
    if len(PATTERN_INDEX.findall(pattern)) != 1:
        raise ValueError(f"Frame pattern {pattern!r} needs exactly one %d placeholder, e.g. frames/name_%09d.png.")
    head, _, tail = PATTERN_INDEX.split(pattern, maxsplit=1)
    found = re.compile(re.escape(os.path.basename(head)) + r"(\d+)" + re.escape(tail) + "$")
    indices = sorted(int(m.group(1)) for p in glob.glob(glob.escape(head) + "*" + glob.escape(tail))
                     if (m := found.match(os.path.basename(p))) and os.path.isfile(p))
    if not indices or not os.path.isfile(pattern % indices[0]):
        raise ValueError(f"No files match the frame pattern {pattern}.")
    start, paths = indices[0], []
    while os.path.isfile(pattern % (start + len(paths))):
        paths.append(Path(pattern % (start + len(paths))))
    return paths, start


def folder_images(folder: str | os.PathLike[str]) -> list[Path]:
    """Image files of a folder sorted by name (frames numbered with leading zeros sort in order)."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def video_source(path: str, *, ffmpeg: str | None = None) -> FrameSource:
    """Frames of a video's first stream, decoded by ffmpeg to a rawvideo RGB pipe one frame at a time."""
    if not os.path.isfile(path):
        raise VideoError(f"Video file not found: {path}.")
    count = count_video_frames(path, ffmpeg=ffmpeg)
    height, width = _first_frame(path, ffmpeg).shape[:2]
    command = [ffmpeg_path(ffmpeg), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path, "-map", "0:v:0",
               "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]

    def frames() -> Iterator[np.ndarray]:
        """Read exactly one frame's bytes per step; the ffmpeg process ends with the generator."""
        yield from _pipe_frames(command, width, height, path)

    return FrameSource(count, width, height, frames, path)


def _first_frame(path: str, ffmpeg: str | None) -> np.ndarray:
    """The first frame as displayed (rotation applied), to learn the decoded size."""
    import cv2

    done = subprocess.run([ffmpeg_path(ffmpeg), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path,
                           "-map", "0:v:0", "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"],
                          capture_output=True, stdin=subprocess.DEVNULL, check=False)
    image = cv2.imdecode(np.frombuffer(done.stdout, np.uint8), cv2.IMREAD_COLOR) if done.stdout else None
    if done.returncode != 0 or image is None:
        said = done.stderr.decode("utf-8", "replace").strip()[-STDERR_TAIL_CHARS:]
        raise VideoError(f"Cannot decode the first frame of {path}; is it a video?\nffmpeg said:\n{said}")
    return image


def _pipe_frames(command: list[str], width: int, height: int, name: str) -> Iterator[np.ndarray]:
    """Frames from an ffmpeg rawvideo rgb24 pipe; VideoError when ffmpeg fails or a frame is cut short."""
    size = width * height * 3
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        try:
            while len(chunk := proc.stdout.read(size)) == size:
                yield np.frombuffer(chunk, np.uint8).reshape(height, width, 3).copy()
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        stderr.seek(0)
        said = stderr.read().decode("utf-8", "replace").strip()[-STDERR_TAIL_CHARS:]
    if code != 0 or chunk:
        raise VideoError(f"Decoding {name} failed (ffmpeg exit code {code}"
                         f"{', a frame was cut short' if chunk else ''}).\nffmpeg said:\n{said or '(no output)'}")


def write_png(path: str | os.PathLike[str], image: np.ndarray) -> None:
    """Write an RGB uint8 image as a PNG (fast compression; works with non-ASCII paths)."""
    import cv2

    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION,
                                                                             PNG_COMPRESSION])
    if not ok:
        raise OSError(f"Could not encode {path} as PNG.")
    data.tofile(str(path))


class FrameWriter:
    """Writes numbered PNGs (``folder / pattern % index``) on worker threads, with at most a few frames queued."""

    def __init__(self, folder: Path, pattern: str, *, threads: int = WRITER_THREADS,
                 queue: int = WRITER_QUEUE) -> None:
        self.folder, self.pattern = folder, pattern
        self.written = 0
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="deforum-png")
        self._slots = threading.BoundedSemaphore(queue)
        self._errors: list[BaseException] = []

    def __call__(self, index: int, image: np.ndarray) -> None:
        """Queue frame `index` for writing (blocks while the queue is full); re-raises an earlier write error."""
        if self._errors:
            raise self._errors[0]
        self._slots.acquire()
        future = self._pool.submit(write_png, self.folder / (self.pattern % index), image)
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        """Free a queue slot; remember a failure."""
        with self._lock:
            if future.exception() is not None:
                self._errors.append(future.exception())
            else:
                self.written += 1
        self._slots.release()

    def close(self) -> int:
        """Wait for every queued frame; returns how many were written, raising the first write error."""
        self._pool.shutdown(wait=True)
        if self._errors:
            raise self._errors[0]
        return self.written

    def __enter__(self) -> FrameWriter:
        """Use as a context manager: every queued frame is written (or failed) on exit."""
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        """Wait for the queue; raise a write error unless another error is already on its way."""
        self._pool.shutdown(wait=True)
        if kind is None and self._errors:
            raise self._errors[0]


def open_source(location: str, *, ffmpeg: str | None = None) -> FrameSource:
    """Frames of a video file, a folder of images, a ``%09d`` pattern, or a render folder's frames."""
    path = Path(location).expanduser()
    if "%" in location and not path.exists():
        paths, _ = pattern_paths(str(path))
        return files_source(paths, location)
    if path.is_dir():
        images = folder_images(path)
        if not images:
            raise ValueError(f"{path} holds no images (.png, .jpg, .jpeg, .webp, .bmp).")
        return files_source(images, str(path))
    if path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            raise ValueError(f"{path} is a single image: give a video, a folder of frames or a %09d pattern.")
        return video_source(str(path), ffmpeg=ffmpeg)
    raise FileNotFoundError(f"{location} does not exist: give a video file, a folder of frames or a %09d pattern.")
