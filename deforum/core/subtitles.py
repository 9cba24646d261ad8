"""The per-frame `<timestring>.srt` of generation info (the original's 'save gen info as .srt' option)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from deforum.animation.keys import AnimationKeys
from deforum.media.srt import SrtWriter, format_frame_params, frame_info_text


class FrameSubtitles:
    """Writes one cue per written frame with the selected schedule values."""

    def __init__(self, path: Path, fps: float, keys: AnimationKeys, prompts: tuple[tuple[str, str], ...],
                 selected: Collection[str], *, keep_frames_before: int | None = None) -> None:
        self.keys, self.prompts, self.selected = keys, prompts, tuple(selected)
        self.writer = SrtWriter(path, fps, keep_frames_before=keep_frames_before)

    def write(self, frame: int, seed: int, tween: float | None) -> None:
        """Append the cue of one frame."""
        values = {key: series[frame] for key, series in self.keys.series.items()}
        positive, negative = self.prompts[frame]
        prompt = f"{positive} --neg {negative}" if negative else positive
        params = format_frame_params(values, self.selected, prompt)
        self.writer.write(frame, frame_info_text(frame, seed, params, tween))

    def close(self) -> None:
        """Close the file."""
        self.writer.close()
