"""`interpolate`, `upscale`, `frames2video` and `video2frames` on the command line."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from deforum.cli import build_parser
from deforum.cli.tools import add_frames_command, add_interpolate_command, add_upscale_command
from deforum.integrations.post.frame_stream import write_png
from deforum.media.video import count_video_frames, probe_media
from tests.integrations.post.test_postprocess_support import (  # noqa: F401
    make_tone,
    make_video,
    models,
    save_film,
    save_rife_weights,
    save_srvgg,
)

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")


def run(argv: list[str]) -> int:
    """Parse and run like `python -m deforum` does (ValueError → exit 2)."""
    parser = build_parser((add_interpolate_command, add_upscale_command, add_frames_command))
    args = parser.parse_args(argv)
    logging.getLogger().setLevel(logging.WARNING)
    try:
        return args.handler(args)
    except ValueError as err:
        print(f"error: {err}")
        return 2


def last_line(capsys: pytest.CaptureFixture) -> str:
    """The command's last stdout line."""
    return capsys.readouterr().out.strip().splitlines()[-1]


def frames_folder(folder: Path, count: int, start: int = 0) -> Path:
    """`count` numbered 32×32 frames ``f_%09d.png`` from `start`."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        write_png(folder / f"f_{i:09}.png", np.full((32, 32, 3), 20 * i, np.uint8))
    return folder


def test_interpolate_a_video_with_rife_keeps_its_audio(tmp_path: Path, models: Path,  # noqa: F811
                                                        capsys: pytest.CaptureFixture) -> None:
    save_rife_weights(models / "Deforum" / "RIFE46.pkl")
    clip = make_video(tmp_path / "my clip.mp4", frames=4, fps=10, audio=True)
    assert run(["interpolate", str(clip), "--engine", "rife", "--x", "3", "--models-dir", str(models),
                "--device", "cpu", "--keep-imgs"]) == 0
    video = Path(last_line(capsys))
    assert video == tmp_path / "outputs" / "frame-interpolation" / "my_clip" / "my_clip_RIFE_x3.mp4"
    info = probe_media(str(video))
    assert count_video_frames(str(video)) == 10 and info.fps == 30 and info.has_audio
    assert len(list((video.parent / "interpolated_frames_rife_my_clip").glob("*.png"))) == 10


def test_interpolate_frames_with_film_in_slow_motion(tmp_path: Path, models: Path,  # noqa: F811
                                                      capsys: pytest.CaptureFixture) -> None:
    save_film(models / "Deforum" / "film_interpolation" / "film_net_fp16.pt")
    frames = frames_folder(tmp_path / "shots", 3)
    assert run(["interpolate", str(frames), "--engine", "film", "--x", "4", "--slow-mo", "2", "--fps", "12",
                "--models-dir", str(models), "--device", "cpu", "-o", str(tmp_path / "out")]) == 0
    video = Path(last_line(capsys))
    assert video == tmp_path / "out" / "shots_FILM_x4_slomo_x2.mp4"
    assert probe_media(str(video)).fps == 24 and count_video_frames(str(video)) == 11  # round(4.5) = 4 per pair
    assert not (tmp_path / "out" / "interpolated_frames_film_shots").exists()


def test_frames_need_an_fps(tmp_path: Path, models: Path, capsys: pytest.CaptureFixture) -> None:  # noqa: F811
    assert run(["interpolate", str(frames_folder(tmp_path / "f", 2)), "--models-dir", str(models)]) == 2
    assert "--fps" in capsys.readouterr().out


def test_missing_weights_exit_1_naming_the_file(tmp_path: Path, models: Path,  # noqa: F811
                                                 capsys: pytest.CaptureFixture) -> None:
    assert run(["interpolate", str(frames_folder(tmp_path / "f", 2)), "--fps", "10", "--models-dir", str(models)]) == 1
    err = capsys.readouterr().err
    assert "RIFE46.pkl" in err and "Traceback" not in err


def test_x_out_of_range_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run(["interpolate", str(frames_folder(tmp_path / "f", 2)), "--fps", "10", "--x", "11"]) == 2
    assert "2–10" in capsys.readouterr().out


def test_upscale_a_video(tmp_path: Path, models: Path, capsys: pytest.CaptureFixture) -> None:  # noqa: F811
    save_srvgg(models / "Deforum" / "realesr-animevideov3.pth")
    clip = make_video(tmp_path / "clip.mp4", frames=3, size=32, audio=True)
    assert run(["upscale", str(clip), "--factor", "x2", "--models-dir", str(models), "--device", "cpu"]) == 0
    video = Path(last_line(capsys))
    assert video.name == "clip_Upscaled_x2.mp4" and probe_media(str(video)).width == 64
    assert probe_media(str(video)).has_audio and not (video.parent / "Upscaled_frames").exists()


def test_frames2video_from_the_lowest_index_with_audio_and_gif(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = frames_folder(tmp_path / "seq", 4, start=5)
    tone = make_tone(tmp_path / "tone.m4a")
    assert run(["frames2video", str(folder / "f_%09d.png"), "--fps", "8", "--audio", str(tone), "--gif",
                "--preset", "ultrafast"]) == 0
    video = Path(last_line(capsys))
    assert video == folder / "seq.mp4" and count_video_frames(str(video)) == 4
    assert probe_media(str(video)).has_audio and (folder / "seq.gif").is_file()
    assert run(["frames2video", str(folder / "f_%09d.png"), "--fps", "8", "--preset", "ultrafast"]) == 0
    assert Path(last_line(capsys)) == folder / "seq_1.mp4"


def test_video2frames(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    clip = make_video(tmp_path / "clip.mp4", frames=5, size=32)
    assert run(["video2frames", str(clip), "-o", str(tmp_path / "frames"), "--every-nth", "2"]) == 0
    assert Path(last_line(capsys)) == tmp_path / "frames"
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [f"clip{i:09}.png" for i in range(3)]


def test_a_missing_pattern_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run(["frames2video", str(tmp_path / "none_%09d.png"), "--fps", "8"]) == 2
    assert "No files match" in capsys.readouterr().out
