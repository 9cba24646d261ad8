"""Vid2depth: grey maps, thresholding, and `python -m deforum depth` on a tiny generated video and images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deforum.cli import build_parser
from deforum.cli.depth import add_depth_command
from deforum.depth.run import run_depth_command
from deforum.depth.vid2depth import DepthMapOptions, GreyDepthMapper, shape_depth_map
from deforum.media.frames_io import read_image, write_png_atomic
from deforum.media.video import count_video_frames, stitch_video

FRAMES = 5


def _frame(index: int) -> np.ndarray:
    """A 40×56 frame with a moving bright block."""
    y, x = np.mgrid[0:40, 0:56]
    rgb = np.stack([x * 4, y * 6, np.full_like(x, 60)], axis=-1)
    rgb[8:24, 4 + 6 * index:20 + 6 * index] = 240
    return rgb.astype(np.uint8)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 5-frame 40×56 H.264 video made from numpy frames."""
    folder = tmp_path_factory.mktemp("video")
    for index in range(FRAMES):
        write_png_atomic(folder / f"{index:09}.png", _frame(index))
    return Path(stitch_video(str(folder / "%09d.png"), str(folder / "clip.mp4"), 10, preset="ultrafast").path)


def test_grey_map_near_is_white_and_range_accumulates() -> None:
    mapper = GreyDepthMapper(larger_is_nearer=True, options=DepthMapOptions())
    grey = mapper(np.array([[0.0, 1.0], [2.0, 4.0]], np.float32))
    assert grey.dtype == np.uint8 and grey[1, 1] == 255 and grey[0, 0] == 0
    assert mapper(np.array([[0.0, 2.0]], np.float32)).tolist() == [[0, 127]]
    far_is_larger = GreyDepthMapper(larger_is_nearer=False, options=DepthMapOptions(closer_is_brighter=False))
    assert far_is_larger(np.array([[1.0, 5.0]], np.float32)).tolist() == [[0, 255]]


@pytest.mark.parametrize("mode", ["Simple", "Simple (Auto-value)", "Adaptive (Mean)", "Adaptive (Gaussian)"])
def test_thresholding_gives_binary_maps(mode: str) -> None:
    grey = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (16, 1))
    shaped = shape_depth_map(grey, DepthMapOptions(thresholding=mode, end_blur=1.5))
    assert set(np.unique(shaped)) <= {0, 255}
    assert shape_depth_map(grey, DepthMapOptions(thresholding="Simple", threshold_value=100))[0, -1] == 255


def test_option_validation() -> None:
    with pytest.raises(ValueError, match="thresholding"):
        DepthMapOptions(thresholding="Otsu")
    with pytest.raises(ValueError, match="odd"):
        DepthMapOptions(thresholding="Adaptive (Mean)", adapt_block_size=10)


def test_video_to_depth_video_keeps_frame_count(video: Path, models_dir: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser((add_depth_command,))
    args = parser.parse_args(["depth", str(video), "--models-dir", str(models_dir), "-o", str(tmp_path / "out"),
                              "--preset", "ultrafast"])
    assert args.handler(args) == 0
    output = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert output == tmp_path / "out" / "clip_depth_None.mp4"
    assert count_video_frames(str(output)) == FRAMES
    frames = sorted((tmp_path / "out" / "depth_frames_clip").glob("*.png"))
    assert [f.name for f in frames] == [f"{i:09}.png" for i in range(FRAMES)]
    assert read_image(frames[0]).shape == (40, 56, 3)
    assert not (tmp_path / "out" / "tmp_input_frames").exists()


def test_video_default_folder_and_no_keep(video: Path, models_dir: Path, tmp_path: Path) -> None:
    kwargs = {"models_dir": str(models_dir), "keep_imgs": False, "preset": "ultrafast", "show_progress": False,
              "algorithm": "Midas-3-Hybrid", "options": DepthMapOptions(thresholding="Simple (Auto-value)")}
    first = Path(run_depth_command(str(video), **kwargs))
    second = Path(run_depth_command(str(video), **kwargs))
    assert first == tmp_path / "outputs" / "frame-depth" / "clip" / "clip_depth_Simple_Auto-value.mp4"
    assert second.parent.name == "clip_1" and count_video_frames(str(second)) == FRAMES
    assert not (first.parent / "depth_frames_clip").exists()


def test_images_to_depth(models_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(3):
        write_png_atomic(folder / f"shot{index}.png", _frame(index))
    (folder / "notes.txt").write_text("not an image")
    out = run_depth_command(str(folder), out=str(tmp_path / "maps"), models_dir=str(models_dir), show_progress=False)
    assert sorted(p.name for p in Path(out).iterdir()) == [f"shot{i}_depth.png" for i in range(3)]
    single = run_depth_command(str(folder / "shot1.png"), out=str(tmp_path / "one"), models_dir=str(models_dir),
                               show_progress=False, options=DepthMapOptions(closer_is_brighter=False))
    assert single == str(tmp_path / "one" / "shot1_depth.png") and read_image(single).shape == (40, 56, 3)


def test_cli_errors_exit_1(video: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser((add_depth_command,))
    args = parser.parse_args(["depth", str(tmp_path / "absent.mp4")])
    assert args.handler(args) == 1
    assert "does not exist" in capsys.readouterr().err
    args = parser.parse_args(["depth", str(video), "--models-dir", str(tmp_path / "none"), "-o", str(tmp_path / "o")])
    assert args.handler(args) == 1
    assert "Depth-Anything-V2-Small was not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
