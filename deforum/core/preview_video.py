"""The in-progress preview video: `<timestring>_preview.mp4` of the frames so far, remade every N frames (the
original's "Generate preview video during generation" option), on the frame writer's ordered thread."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from deforum.media.frames_io import frames_pattern
from deforum.media.video import VideoError, stitch_video

log = logging.getLogger(__name__)

PREVIEW_SUFFIX = "_preview"
DEFAULT_PREVIEW_INTERVAL = 100  # the WebUI option deforum_preview_interval_frames' default


def preview_path(outdir: Path, timestring: str) -> Path:
    """Where the preview video goes: `<outdir>/<timestring>_preview.mp4`, as the original named it."""
    return Path(outdir) / f"{timestring}{PREVIEW_SUFFIX}.mp4"


def preview_interval(choice: object, every: object) -> int:
    """Frames between previews from the WebUI options `deforum_preview` ("Off", "On", "On, concurrent ...") and
    `deforum_preview_interval_frames`; 0 when off or when the interval is not a positive whole number."""
    if "on" not in str(choice or "Off").lower():
        return 0
    try:
        return max(0, int(every))
    except (TypeError, ValueError):
        return 0


def preview_due(frames_done: int, every: int, last: int, max_frames: int) -> bool:
    """Whether a preview of the first `frames_done` frames is due: every `every` frames (or `every` frames after the
    last one), never in the last two frames (the final video follows), never when `every` is 0 (off)."""
    if every <= 0 or frames_done >= max_frames - 1:
        return False
    return frames_done % every == 0 or frames_done - last >= every


@dataclass
class PreviewVideo:
    """Remakes the preview video once every `every` frames; a failed encode is logged, never stops the render."""

    outdir: Path
    timestring: str
    every: int
    max_frames: int
    fps: float
    soundtrack: str | None = None
    crf: int = 17
    preset: str = "slow"
    ffmpeg: str | None = None
    last: int = 0

    def __call__(self, frame: int) -> None:
        """Frame `frame` is in place (with every frame before it): make the preview when one is due."""
        done = frame + 1
        if not preview_due(done, self.every, self.last, self.max_frames):
            return
        self.last = done
        path = preview_path(self.outdir, self.timestring)
        pattern = frames_pattern(self.outdir, f"{self.timestring}_%09d.png")
        log.info("Rendering preview video up to frame %d to %s", done, path)
        try:
            stitch_video(pattern, str(path), self.fps, frame_count=done, soundtrack=self.soundtrack, crf=self.crf,
                         preset=self.preset, ffmpeg=self.ffmpeg)
        except (VideoError, OSError) as err:
            log.warning("Preview video up to frame %d failed (the render goes on): %s", done, err)
