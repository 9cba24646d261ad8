"""VideoPipe: the video encoded during the render is byte-identical to stitching its PNGs; anything unexpected
leaves no file and lets the run stitch instead."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deforum.media import frames_io
from deforum.media.video import stitch_video
from deforum.media.video_pipe import VideoPipe

TS = "20240101120000"


def _frames(count: int, width: int = 70, height: int = 48) -> list[np.ndarray]:
    """Moving test-card frames (odd width: the even-size pad applies)."""
    card = frames_io.test_card(width, height)
    return [np.roll(card, 3 * i, axis=1) for i in range(count)]


def test_piped_video_is_byte_identical_to_stitching_the_frames(tmp_path: Path) -> None:
    pipe = VideoPipe(tmp_path / "piped.mp4", 15, crf=20, preset="fast")
    for index, image in enumerate(_frames(10)):
        frames_io.write_png_atomic(tmp_path / frames_io.frame_filename(TS, index), image)
        pipe.write(index, image)
    result = pipe.finish(10)
    assert result is not None and result.frame_count == 10
    stitch_video(str(tmp_path / f"{TS}_%09d.png"), str(tmp_path / "stitched.mp4"), 15, frame_count=10, crf=20,
                 preset="fast")
    assert (tmp_path / "piped.mp4").read_bytes() == (tmp_path / "stitched.mp4").read_bytes()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("problem", ["out of order", "other size", "fewer on disk"])
def test_an_unexpected_frame_or_count_gives_no_video_and_no_file(tmp_path: Path, problem: str) -> None:
    pipe = VideoPipe(tmp_path / "piped.mp4", 15, preset="ultrafast")
    frames = _frames(4)
    for index, image in enumerate(frames):
        if problem == "out of order" and index == 2:
            index = 3
        if problem == "other size" and index == 2:
            image = image[:-2]
        pipe.write(index, image)
    assert pipe.finish(3 if problem == "fewer on disk" else 4) is None
    assert pipe.broken
    assert list(tmp_path.iterdir()) == []


def test_an_aborted_pipe_leaves_nothing(tmp_path: Path) -> None:
    pipe = VideoPipe(tmp_path / "piped.mp4", 15, preset="ultrafast")
    pipe.write(0, _frames(1)[0])
    pipe.abort()
    assert pipe.finish(1) is None
    assert list(tmp_path.iterdir()) == []
