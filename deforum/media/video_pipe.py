"""VideoPipe: the render's `<timestring>.mp4` encoded while it renders, from raw RGB frames fed to ffmpeg's stdin.

The same x264 options as stitching the PNGs afterwards, and the same input pixels (rgb24), so the video is the one
`stitch_video` would make; it is ready seconds after the last frame. Anything unexpected (a frame out of order,
another size, ffmpeg failing) breaks the pipe quietly and the run falls back to stitching the frames on disk.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import tempfile
from pathlib import Path
from typing import IO

import numpy as np

from deforum.media.frames_io import discard_temp
from deforum.media.video import (
    STDERR_TAIL_CHARS,
    VideoError,
    VideoResult,
    ffmpeg_path,
    finish_encoded_video,
    x264_output_args,
)

log = logging.getLogger(__name__)


ENCODER_NICENESS = 5


def _lower_priority(pid: int) -> None:
    """Let the encoder yield the CPU to the render loop (POSIX; elsewhere it keeps the default priority)."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, os.getpriority(os.PRIO_PROCESS, 0) + ENCODER_NICENESS)
    except (AttributeError, OSError):
        pass


class VideoPipe:
    """Encodes frames first_frame, first_frame+1, ... as they are written; `finish` returns the video or None."""

    def __init__(self, out_path: str | Path, fps: float, *, crf: int = 17, preset: str = "slow",
                 ffmpeg: str | None = None, first_frame: int = 0) -> None:
        self.target = Path(out_path)
        self.fps, self.crf, self.preset, self.ffmpeg = fps, crf, preset, ffmpeg
        self.next_frame = first_frame
        self.first_frame = first_frame
        self.broken: str | None = None
        self._temp = self.target.with_name(f".{self.target.name}.{secrets.token_hex(4)}.pipe.mp4")
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._shape: tuple[int, ...] | None = None

    @property
    def frames(self) -> int:
        """How many frames were fed."""
        return self.next_frame - self.first_frame

    def write(self, frame: int, image: np.ndarray) -> None:
        """Feed one H×W×3 uint8 RGB frame (the next in order); anything else breaks the pipe."""
        if self.broken is not None:
            return
        if frame != self.next_frame:
            self._break(f"frame {frame} arrived when frame {self.next_frame} was expected")
            return
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or (
                self._shape is not None and image.shape != self._shape):
            self._break(f"frame {frame} is a {image.dtype} {image.shape} image")
            return
        try:
            if self._proc is None:
                self._start(image.shape)
            assert self._proc is not None and self._proc.stdin is not None
            self._proc.stdin.write(np.ascontiguousarray(image).data)
        except (OSError, VideoError) as err:
            self._break(f"ffmpeg stopped taking frames ({err})")
            return
        self.next_frame += 1

    def _start(self, shape: tuple[int, ...]) -> None:
        """Start ffmpeg for frames of this shape."""
        height, width = shape[:2]
        self._shape = shape
        self._stderr = tempfile.TemporaryFile()
        command = [ffmpeg_path(self.ffmpeg), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo",
                   "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", float(self.fps), "-i", "pipe:0",
                   *x264_output_args(self.fps, self.crf, self.preset), self._temp]
        self._proc = subprocess.Popen([str(arg) for arg in command], stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, stderr=self._stderr)
        _lower_priority(self._proc.pid)

    def _break(self, reason: str) -> None:
        """Stop encoding; the run will stitch the frames on disk instead."""
        self.broken = reason
        log.info("Video encoding during the render stopped: %s; the video will be made from the frames.", reason)
        self._stop(kill=True)

    def _stop(self, *, kill: bool) -> int | None:
        """Close ffmpeg's input (or kill it) and wait; returns its exit code (None if it never started)."""
        if self._proc is None:
            return None
        proc, self._proc = self._proc, None
        if kill:
            proc.kill()
        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except OSError:
            pass
        code = proc.wait()
        if kill:
            discard_temp(self._temp)
        return code

    def finish(self, frame_count: int, *, soundtrack: str | None = None) -> VideoResult | None:
        """End the encoding; the video when it holds exactly frames first_frame..frame_count-1, else None (nothing
        left behind: the caller stitches the frames instead)."""
        if self.broken is None and (self.first_frame != 0 or self.next_frame != frame_count or frame_count == 0):
            self._break(f"{self.frames} frame(s) fed, {frame_count} on disk")
        if self.broken is not None:
            return None
        code = self._stop(kill=False)
        if code != 0:
            self._fail(f"ffmpeg exit code {code}")
            return None
        if self._stderr is not None:
            self._stderr.close()
        try:
            return finish_encoded_video(self._temp, self.target, frame_count, soundtrack=soundtrack,
                                        ffmpeg=self.ffmpeg)
        except (OSError, VideoError) as err:
            self._fail(str(err))
            return None

    def _fail(self, reason: str) -> None:
        """Record a failure at the end (with ffmpeg's message) and remove the partial file."""
        said = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            said = self._stderr.read().decode("utf-8", errors="replace").strip()[-STDERR_TAIL_CHARS:]
            self._stderr.close()
        self.broken = reason
        log.warning("Encoding the video during the render failed (%s); stitching the frames instead. %s", reason, said)
        discard_temp(self._temp)

    def abort(self) -> None:
        """Stop without a video (the render failed)."""
        if self.broken is None:
            self._break("the render stopped")
