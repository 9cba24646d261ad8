"""DiskFrameSink: frames, depth maps and resume checkpoints in the run's output folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from deforum.config.settings_io import write_file_atomic
from deforum.core.state import FrameState, state_from_arrays, state_to_arrays
from deforum.core.subtitles import FrameSubtitles
from deforum.media.frames_io import depth_filename, frame_filename, write_png_atomic


class FrameWriteError(OSError):
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


class DiskFrameSink:
    """Writes `<timestring>_<frame:09>.png` atomically, depth maps, and a checkpoint after each segment."""

    def __init__(self, outdir: str | os.PathLike, timestring: str, *, depth_larger_is_nearer: bool = True,
                 subtitles: FrameSubtitles | None = None) -> None:
        self.outdir = Path(outdir)
        self.timestring = timestring
        self.depth_larger_is_nearer = depth_larger_is_nearer
        self.subtitles = subtitles
        self.outdir.mkdir(parents=True, exist_ok=True)

    def write_frame(self, frame: int, image: np.ndarray) -> None:
        """Write one frame PNG atomically; a failed write says what to do and that earlier frames are intact."""
        path = self.outdir / frame_filename(self.timestring, frame)
        try:
            write_png_atomic(path, image)
        except OSError as err:
            raise FrameWriteError(err.errno, f"Could not write frame {frame} to {path}: {err.strerror or err}. "
                                  f"The frames before it are complete; free disk space and continue with "
                                  f"--resume {self.timestring}.") from err

    def write_info(self, frame: int, seed: int, tween: float | None) -> None:
        """Add the frame's cue to the .srt when subtitles are on."""
        if self.subtitles is not None:
            self.subtitles.write(frame, seed, tween)

    def write_depth(self, frame: int, depth: np.ndarray) -> None:
        """Write one depth map PNG atomically."""
        grey = depth_to_png(depth, self.depth_larger_is_nearer)
        write_png_atomic(self.outdir / depth_filename(self.timestring, frame), grey)

    def save_state(self, state: FrameState) -> None:
        """Write the resume checkpoint atomically (uncompressed: it is rewritten after every segment)."""
        arrays = state_to_arrays(state)
        path = checkpoint_path(self.outdir, self.timestring)
        try:
            write_file_atomic(path, lambda stream: np.savez(stream, **arrays))
        except OSError as err:
            raise FrameWriteError(err.errno, f"Could not write the resume checkpoint {path}: {err.strerror or err}. "
                                  f"The frames written so far are complete; free disk space in {self.outdir} and "
                                  f"continue with --resume {self.timestring}.") from err

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
        """Close the subtitles file."""
        if self.subtitles is not None:
            self.subtitles.close()
