"""The per-frame `<timestring>.srt` of generation info (the original's 'save gen info as .srt' option)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from deforum.animation.keys import AnimationKeys
from deforum.media.srt import SrtWriter, format_frame_params, frame_info_text, original_string_value


class FrameSubtitles:
    """Writes one cue per written frame with the selected schedule values (numeric and string schedules)."""

    def __init__(self, path: Path, fps: float, keys: AnimationKeys, prompt_texts: tuple[str, ...],
                 selected: Collection[str], *, keep_frames_before: int | None = None) -> None:
        self.keys, self.prompt_texts, self.selected = keys, prompt_texts, tuple(selected)
        self.writer = SrtWriter(path, fps, keep_frames_before=keep_frames_before)

    def frame_values(self, frame: int) -> dict[str, Any]:
        """Every schedule's value at `frame`; string schedules as the original's series held them."""
        values: dict[str, Any] = {key: series[frame] for key, series in self.keys.series.items()}
        values.update({key: original_string_value(texts[frame]) for key, texts in self.keys.strings.items()})
        return values

    def write(self, frame: int, seed: int, tween: float | None) -> None:
        """Append the cue of one frame."""
        prompt = self.prompt_texts[frame] if frame < len(self.prompt_texts) else ""
        params = format_frame_params(self.frame_values(frame), self.selected, prompt)
        self.writer.write(frame, frame_info_text(frame, seed, params, tween))

    def close(self) -> None:
        """Close the file."""
        self.writer.close()
