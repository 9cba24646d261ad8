"""Human-mask files: names, video and overwrite as the original's hybrid set-up wrote them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deforum.media.frames_io import write_png_atomic
from deforum.media.human_masks import MASK_VIDEO, write_human_masks
from deforum.media.video import count_video_frames


class RampMatting:
    """Alpha = the frame's green channel; records how many frames it saw."""

    def __init__(self) -> None:
        self.seen = 0

    def alphas(self, frames):
        for frame in frames:
            self.seen += 1
            yield np.ascontiguousarray(frame[..., 1])


@pytest.fixture
def frames(tmp_path: Path) -> list[Path]:
    paths = []
    for i in range(4):
        image = np.zeros((32, 48, 3), np.uint8)
        image[..., 1] = 40 * i + np.arange(48, dtype=np.uint8)
        paths.append(tmp_path / "inputframes" / f"clip{i:09}.png")
        paths[-1].parent.mkdir(exist_ok=True)
        write_png_atomic(paths[-1], image)
    return paths


def test_pngs_are_numbered_from_0000_with_the_exact_alpha(frames, tmp_path):
    folder = tmp_path / "human_masks"
    assert write_human_masks(frames, folder, "PNGs", 15, RampMatting()) == 4
    assert sorted(p.name for p in folder.iterdir()) == ["0000.png", "0001.png", "0002.png", "0003.png"]
    mask = np.asarray(Image.open(folder / "0003.png"))
    assert mask.shape == (32, 48) and mask[0, 0] == 120 and mask[0, 47] == 167


def test_video_only_leaves_just_the_video(frames, tmp_path):
    folder = tmp_path / "human_masks"
    write_human_masks(frames, folder, "Video", 7.5, RampMatting())
    assert [p.name for p in folder.iterdir()] == [MASK_VIDEO]
    assert count_video_frames(str(folder / MASK_VIDEO)) == 4


def test_both_writes_the_video_and_frame_i_pngs(frames, tmp_path):
    folder = tmp_path / "human_masks"
    write_human_masks(frames, folder, "Both", 15, RampMatting())
    assert sorted(p.name for p in folder.iterdir()) == sorted([MASK_VIDEO, *(f"frame{i}.png" for i in range(4))])


def test_overwrite_clears_old_masks_and_keeps_them_otherwise(frames, tmp_path):
    folder = tmp_path / "human_masks"
    folder.mkdir()
    (folder / "old.jpg").write_bytes(b"x")
    write_human_masks(frames, folder, "PNGs", 15, RampMatting())
    assert (folder / "old.jpg").exists()
    write_human_masks(frames, folder, "PNGs", 15, RampMatting(), overwrite=True)
    assert not (folder / "old.jpg").exists() and (folder / "0000.png").exists()


def test_an_unknown_output_names_the_setting(frames, tmp_path):
    with pytest.raises(ValueError, match="hybrid_generate_human_masks"):
        write_human_masks(frames, tmp_path / "m", "GIF", 15, RampMatting())
