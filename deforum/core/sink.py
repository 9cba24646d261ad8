"""DiskFrameSink: frames, depth maps, .srt cues, the video feed and resume checkpoints in the run's output folder,
written in the background (BackgroundWriter); a checkpoint is written only once the frames before it are durable."""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Protocol

import numpy as np

from deforum.config.settings_io import write_file_atomic
from deforum.core.frame_writer import BackgroundWriter
from deforum.core.state import FrameState, state_from_arrays, state_to_arrays
from deforum.core.subtitles import FrameSubtitles
from deforum.media.frames_io import (
    depth_filename,
    discard_temp,
    frame_filename,
    fsync_file,
    fsync_folder,
    replace_from_temp,
    write_png_atomic,
    write_png_temp,
)
from deforum.models.errors import DeforumError

CHECKPOINT_INTERVAL_S = 0.5


class FrameWriteError(DeforumError, OSError):
    """A frame could not be written (disk full, permissions); the render can be resumed."""


def checkpoint_path(outdir: str | os.PathLike, timestring: str) -> Path:
    """The resume checkpoint of a run (hidden, so the original's frame counting ignores it)."""
    return Path(outdir) / f".deforum-resume-{timestring}.npz"


def depth_to_png(depth: np.ndarray, larger_is_nearer: bool = True) -> np.ndarray:
    """A depth map normalised to 0..255 grey for saving, near = white."""
    finite = np.nan_to_num(depth.astype(np.float32))
    low, high = float(finite.min()), float(finite.max())
    scaled = (finite - low) / (high - low) if high > low else np.zeros_like(finite)
    if not larger_is_nearer:
        scaled = 1.0 - scaled
    grey = (scaled * 255).round().astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


class VideoFeed(Protocol):
    """A video encoder fed the finished frames in order (see media.video_pipe.VideoPipe)."""

    def write(self, frame: int, image: np.ndarray) -> None:
        """Encode one frame."""
        ...


def frame_write_error(err: OSError, frame: int, path: Path, timestring: str) -> FrameWriteError:
    """The error of a failed frame write: what failed, that earlier frames are intact, how to continue."""
    return FrameWriteError(err.errno, f"Could not write frame {frame} to {path}: {err.strerror or err}. "
                           f"The frames before it are complete; free disk space and continue with "
                           f"--resume {timestring}.")


def discard_written_temp(future: Future[Path]) -> None:
    """Remove the temp file of a frame write that will not be renamed into place."""
    if future.exception() is None:
        discard_temp(future.result())


def write_depth_file(path: Path, depth: np.ndarray, larger_is_nearer: bool) -> None:
    """Write one depth map as a grey PNG atomically."""
    write_png_atomic(path, depth_to_png(depth, larger_is_nearer), sync_folder=False)


def write_checkpoint(outdir: Path, timestring: str, arrays: dict[str, np.ndarray], frames: Sequence[Path]) -> None:
    """Make the frames before it durable (their data, then one folder sync for their renames), then write the
    checkpoint atomically; a full disk is a FrameWriteError saying the frames are complete and how to continue."""
    path = checkpoint_path(outdir, timestring)
    try:
        for frame in frames:
            fsync_file(frame)
        fsync_folder(outdir)
        write_file_atomic(path, lambda stream: np.savez(stream, **arrays))
    except OSError as err:
        raise FrameWriteError(err.errno, f"Could not write the resume checkpoint {path}: {err.strerror or err}. "
                              f"The frames written so far are complete; free disk space in {outdir} and "
                              f"continue with --resume {timestring}.") from err


class DiskFrameSink:
    """Writes `<timestring>_<frame:09>.png` atomically, depth maps, and a checkpoint after each segment, in the
    background; the arrays handed over are kept until written (the render loop never changes them in place).
    `after_frame(frame)` runs on the ordered thread once that frame is in place (the preview video)."""

    def __init__(self, outdir: str | os.PathLike, timestring: str, *, depth_larger_is_nearer: bool = True,
                 subtitles: FrameSubtitles | None = None, video: VideoFeed | None = None,
                 after_frame: Callable[[int], None] | None = None) -> None:
        self.outdir = Path(outdir)
        self.timestring = timestring
        self.depth_larger_is_nearer = depth_larger_is_nearer
        self.subtitles = subtitles
        self.video = video
        self.after_frame = after_frame
        self._writer: BackgroundWriter | None = None
        self._unsynced: list[Path] = []  # frames renamed into place since the last checkpoint (ordered thread)
        self._checkpoints_queued = 0
        self._last_checkpoint = -math.inf
        self.outdir.mkdir(parents=True, exist_ok=True)

    @property
    def writer(self) -> BackgroundWriter:
        """The background writer, started on the first write."""
        if self._writer is None:
            self._writer = BackgroundWriter()
        return self._writer

    def write_frame(self, frame: int, image: np.ndarray) -> None:
        """Queue one frame PNG (encoded in parallel, renamed into place in frame order) and its video feed; raises
        the error of an earlier write."""
        path = self.outdir / frame_filename(self.timestring, frame)

        def encode() -> Path:
            try:
                return write_png_temp(path, image, sync=False)
            except OSError as err:
                raise frame_write_error(err, frame, path, self.timestring) from err

        def commit() -> None:
            try:
                replace_from_temp(written.result(), path)
            except OSError as err:
                raise frame_write_error(err, frame, path, self.timestring) from err
            self._unsynced.append(path)

        written = self.writer.submit(encode)
        self.writer.submit_ordered(commit, after=(written,), on_skip=functools.partial(discard_written_temp, written))
        if self.video is not None:
            self.writer.submit_ordered(functools.partial(self.video.write, frame, image))
        if self.after_frame is not None:
            self.writer.submit_ordered(functools.partial(self.after_frame, frame))

    def write_info(self, frame: int, seed: int, tween: float | None) -> None:
        """Queue the frame's cue for the .srt when subtitles are on."""
        if self.subtitles is not None:
            self.writer.submit_ordered(functools.partial(self.subtitles.write, frame, seed, tween))

    def write_depth(self, frame: int, depth: np.ndarray) -> None:
        """Queue one depth map PNG."""
        path = self.outdir / depth_filename(self.timestring, frame)
        self.writer.submit(functools.partial(write_depth_file, path, depth, self.depth_larger_is_nearer))

    def save_state(self, state: FrameState) -> None:
        """Queue the resume checkpoint, written once every file queued before it is in place and synced. While
        the writes lag behind the render, a checkpoint with a newer one queued behind it is skipped unless the
        last one written is CHECKPOINT_INTERVAL_S old (resuming from an older checkpoint gives the same frames)."""
        arrays = state_to_arrays(state)
        self._checkpoints_queued += 1
        number = self._checkpoints_queued

        def checkpoint() -> None:
            now = time.monotonic()
            if number < self._checkpoints_queued and now - self._last_checkpoint < CHECKPOINT_INTERVAL_S:
                return
            frames, self._unsynced = self._unsynced, []
            write_checkpoint(self.outdir, self.timestring, arrays, frames)
            self._last_checkpoint = now

        self.writer.submit_ordered(checkpoint, after=self.writer.pending())

    def load_state(self) -> FrameState | None:
        """The last checkpoint of this run, or None."""
        path = checkpoint_path(self.outdir, self.timestring)
        if not path.is_file():
            return None
        with np.load(path) as arrays:
            return state_from_arrays(dict(arrays))

    def clear_state(self) -> None:
        """Remove the checkpoint once the render is complete."""
        checkpoint_path(self.outdir, self.timestring).unlink(missing_ok=True)

    def close(self) -> None:
        """Finish every queued write and close the subtitles file; raises the first write error."""
        writer, self._writer = self._writer, None
        try:
            if writer is not None:
                writer.close()
        finally:
            if self.subtitles is not None:
                self.subtitles.close()

    def abort(self) -> None:
        """Finish the queued writes without raising (the render is already failing) and close the subtitles."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.abort()
        if self.subtitles is not None:
            self.subtitles.close()
