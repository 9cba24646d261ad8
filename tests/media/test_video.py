"""ffmpeg video output: stitching, soundtrack/subtitle muxing, GIF, frame counting, safe deletion, frame extraction."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deforum.media import frames_io, video
from deforum.media.srt import SrtWriter
from deforum.media.video import VideoError

TS = "20240101120000"


def _write_frames(folder: Path, count: int, width: int = 64, height: int = 64) -> str:
    """`count` moving test-card frames in `folder`; returns the %09d pattern."""
    card = frames_io.test_card(width, height)
    for frame in range(count):
        frames_io.write_png_atomic(folder / frames_io.frame_filename(TS, frame), np.roll(card, 4 * frame, axis=1))
    return str(folder / f"{TS}_%09d.png")


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> str:
    """Twelve 64×64 frames."""
    return _write_frames(tmp_path_factory.mktemp("frames"), 12)


@pytest.fixture(scope="module")
def stitched(frames, tmp_path_factory) -> video.VideoResult:
    """The twelve frames stitched at 12 fps with default options."""
    return video.stitch_video(frames, str(tmp_path_factory.mktemp("out") / f"{TS}.mp4"), 12)


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> str:
    """A 3-second 440 Hz tone generated with ffmpeg's lavfi sine source."""
    path = tmp_path_factory.mktemp("audio") / "tone.m4a"
    subprocess.run([video.ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
                    "-i", "sine=frequency=440:duration=3", "-c:a", "aac", str(path)], check=True)
    return str(path)


def _streams(path: str) -> str:
    """The stream lines of ``ffmpeg -i``."""
    out = subprocess.run([video.ffmpeg_path(), "-hide_banner", "-i", path], capture_output=True, text=True).stderr
    return "\n".join(line for line in out.splitlines() if "Stream #" in line)


def test_stitched_video_is_browser_playable_h264_with_every_frame(stitched):
    info = video.probe_media(stitched.path)
    assert stitched.frame_count == 12 and video.count_video_frames(stitched.path) == 12
    assert (info.video_codec, info.pix_fmt, info.width, info.height, info.fps) == ("h264", "yuv420p", 64, 64, 12.0)
    assert info.duration == pytest.approx(1.0, abs=0.05) and not info.has_audio
    assert stitched.warnings == () and os.listdir(Path(stitched.path).parent) == [f"{TS}.mp4"]


def test_progress_reports_frames_and_frame_count_limits(frames, tmp_path):
    seen: list[int] = []
    result = video.stitch_video(frames, str(tmp_path / "five.mp4"), 24, frame_count=5, progress=seen.append,
                                preset="ultrafast")
    assert result.frame_count == 5 and seen and seen[-1] == 5


def test_cancelling_from_progress_leaves_no_video(frames, tmp_path):
    def cancel(frame: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        video.stitch_video(frames, str(tmp_path / "cancelled.mp4"), 12, progress=cancel)
    assert os.listdir(tmp_path) == []
    with pytest.raises(VideoError, match="fps must be positive"):
        video.stitch_video(frames, str(tmp_path / "x.mp4"), 0)


def test_odd_frame_size_is_padded_to_even(tmp_path):
    pattern = _write_frames(tmp_path, 3, width=65, height=63)
    info = video.probe_media(video.stitch_video(pattern, str(tmp_path / "odd.mp4"), 12, preset="ultrafast").path)
    assert (info.width, info.height) == (66, 64)


def test_gap_in_frames_is_reported(tmp_path):
    pattern = _write_frames(tmp_path, 4)
    os.unlink(tmp_path / frames_io.frame_filename(TS, 2))
    result = video.stitch_video(pattern, str(tmp_path / "gap.mp4"), 12, frame_count=4, preset="ultrafast")
    assert result.frame_count == 2 and "gap" in result.warnings[0]


def test_missing_frames_and_ffmpeg_failures_raise_video_error(frames, tmp_path):
    with pytest.raises(VideoError, match="does not exist"):
        video.stitch_video(str(tmp_path / "none_%09d.png"), str(tmp_path / "x.mp4"), 12)
    with pytest.raises(VideoError) as caught:
        video.stitch_video(frames, str(tmp_path / "x.mp4"), 12, preset="not-a-preset")
    assert "ffmpeg said" in str(caught.value) and "preset" in str(caught.value).lower()
    assert not (tmp_path / "x.mp4").exists() and os.listdir(tmp_path) == []


def test_soundtrack_is_muxed_as_aac_and_cut_to_the_video(frames, tone, tmp_path):
    result = video.stitch_video(frames, str(tmp_path / "sound.mp4"), 12, soundtrack=tone, preset="ultrafast")
    info = video.probe_media(result.path)
    assert result.has_audio and info.audio_codec == "aac" and result.frame_count == 12
    assert info.duration == pytest.approx(1.0, abs=0.15)


def test_short_soundtrack_never_cuts_the_video(frames, tmp_path):
    short = tmp_path / "short.m4a"
    subprocess.run([video.ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
                    "-i", "sine=duration=0.4", "-c:a", "aac", str(short)], check=True)
    result = video.stitch_video(frames, str(tmp_path / "s.mp4"), 12, soundtrack=str(short), preset="ultrafast")
    assert result.has_audio and result.frame_count == 12 and result.warnings == ()


def test_init_video_as_soundtrack(frames, example_video, tmp_path):
    source = video.resolve_soundtrack("Init Video", "ignored.mp3", str(example_video))
    result = video.stitch_video(frames, str(tmp_path / "init.mp4"), 12, soundtrack=source, preset="ultrafast")
    assert result.has_audio and video.probe_media(result.path).duration == pytest.approx(1.0, abs=0.15)


@pytest.mark.parametrize("source", ["https://deforum.github.io/a1/A1.mp3", "/nonexistent/track.mp3"])
def test_unusable_soundtrack_still_writes_the_video(frames, tmp_path, source):
    result = video.stitch_video(frames, str(tmp_path / "mute.mp4"), 12, soundtrack=source, preset="ultrafast")
    assert not result.has_audio and result.frame_count == 12 and len(result.warnings) == 1
    assert "without audio" in result.warnings[0]


def test_soundtrack_without_audio_stream_is_a_warning(frames, stitched, tmp_path):
    result = video.stitch_video(frames, str(tmp_path / "m.mp4"), 12, soundtrack=stitched.path, preset="ultrafast")
    assert not result.has_audio and "no audio stream" in result.warnings[0]


def test_subtitles_are_embedded_as_mov_text(frames, tmp_path):
    srt_path = tmp_path / f"{TS}.srt"
    with SrtWriter(srt_path, 12) as writer:
        for frame in range(12):
            writer.write(frame, f"F#: {frame}; Cadence: false; Seed: 1; ")
    result = video.stitch_video(frames, str(tmp_path / "subs.mp4"), 12, subtitles=str(srt_path), preset="ultrafast")
    assert result.has_subtitles and "Subtitle: mov_text" in _streams(result.path)


def test_resolve_soundtrack_choices():
    assert video.resolve_soundtrack("None", "a.mp3", "v.mp4") is None
    assert video.resolve_soundtrack("File", ' "a.mp3" ', "v.mp4") == "a.mp3"
    assert video.resolve_soundtrack("Init Video", "a.mp3", "v.mp4") == "v.mp4"
    with pytest.raises(ValueError):
        video.resolve_soundtrack("Both", "a.mp3", "v.mp4")


def test_gif_is_written_with_every_frame(frames, tmp_path):
    gif = video.make_gif(frames, str(tmp_path / f"{TS}.gif"), 12)
    assert video.probe_media(gif).video_codec == "gif" and video.count_video_frames(gif) == 12
    assert os.listdir(tmp_path) == [f"{TS}.gif"]


def test_delete_after_verify_keeps_frames_on_any_mismatch(tmp_path, stitched):
    _write_frames(tmp_path, 12)
    (tmp_path / frames_io.depth_filename(TS, 0)).write_bytes(b"depth")
    assert video.delete_frames_after_verify(str(tmp_path), TS, 13, stitched.path) == 0
    assert video.delete_frames_after_verify(str(tmp_path), TS, 12, str(tmp_path / "missing.mp4")) == 0
    assert frames_io.existing_frames(tmp_path, TS) == list(range(12))
    assert video.delete_frames_after_verify(str(tmp_path), TS, 12, stitched.path) == 12
    assert sorted(os.listdir(tmp_path)) == [frames_io.depth_filename(TS, 0)]


def test_delete_after_verify_keeps_frames_with_a_gap(tmp_path, stitched):
    _write_frames(tmp_path, 13)
    os.unlink(tmp_path / frames_io.frame_filename(TS, 5))
    assert video.delete_frames_after_verify(str(tmp_path), TS, 12, stitched.path) == 0
    assert len(frames_io.existing_frames(tmp_path, TS)) == 12


def test_count_frames_of_the_example_video(example_video):
    assert video.count_video_frames(str(example_video)) == 901
    info = video.probe_media(str(example_video))
    assert (info.width, info.height, info.fps, info.audio_codec) == (480, 270, 30.0, "aac")


def test_extract_every_nth_frame_with_the_originals_names(example_video, tmp_path):
    out = tmp_path / "inputframes"
    assert video.extract_video_frames(str(example_video), str(out), every_nth=30) == 31
    names = sorted(os.listdir(out))
    assert names[0] == "example_init_vid000000000.jpg" and names[-1] == "example_init_vid000000030.jpg"
    assert frames_io.read_image(out / names[0]).shape == (270, 480, 3)
    stamp = (out / names[5]).stat().st_mtime_ns
    assert video.extract_video_frames(str(example_video), str(out), every_nth=30) == 31
    assert (out / names[5]).stat().st_mtime_ns == stamp


def test_extract_range_counts_absolute_frame_numbers(example_video, tmp_path):
    ranged, single = tmp_path / "ranged", tmp_path / "single"
    assert video.extract_video_frames(str(example_video), str(ranged), every_nth=5, from_frame=9, to_frame=20,
                                      prefix="") == 3
    assert sorted(os.listdir(ranged)) == ["000000000.jpg", "000000001.jpg", "000000002.jpg"]
    assert video.extract_video_frames(str(example_video), str(single), from_frame=15, to_frame=15, prefix="") == 1
    assert (ranged / "000000001.jpg").read_bytes() == (single / "000000000.jpg").read_bytes()


def test_extract_replaces_stale_frames(example_video, tmp_path):
    (tmp_path / "other_video000000000.jpg").write_bytes(b"stale")
    (tmp_path / "keep.txt").write_text("kept")
    assert video.extract_video_frames(str(example_video), str(tmp_path), from_frame=0, to_frame=2) == 3
    assert sorted(os.listdir(tmp_path)) == [f"example_init_vid00000000{i}.jpg" for i in range(3)] + ["keep.txt"]


def test_extract_errors_are_clear(example_video, tmp_path):
    with pytest.raises(VideoError, match="offline"):
        video.extract_video_frames("https://example.com/v.mp4", str(tmp_path))
    with pytest.raises(VideoError, match="not found"):
        video.extract_video_frames(str(tmp_path / "v.mp4"), str(tmp_path))
    with pytest.raises(VideoError, match="before"):
        video.extract_video_frames(str(example_video), str(tmp_path), from_frame=10, to_frame=5)
    with pytest.raises(VideoError, match="No frames"):
        video.extract_video_frames(str(example_video), str(tmp_path), every_nth=1000, from_frame=1)


def test_extract_audio_from_the_init_video(example_video, tmp_path):
    track = video.extract_audio(str(example_video), str(tmp_path / "track.m4a"))
    info = video.probe_media(track)
    assert info.audio_codec == "aac" and info.video_codec is None


def test_ffmpeg_location_override(monkeypatch, tmp_path):
    bundled = video.ffmpeg_path()
    assert os.access(bundled, os.X_OK)
    monkeypatch.setenv(video.FFMPEG_ENV, bundled)
    assert video.ffmpeg_path() == bundled
    monkeypatch.setenv(video.FFMPEG_ENV, str(tmp_path / "no-ffmpeg"))
    with pytest.raises(VideoError, match="ffmpeg not found"):
        video.ffmpeg_path()
    assert video.ffmpeg_path(bundled) == bundled


def test_media_modules_import_without_torch():
    code = ("import sys, deforum.media.frames_io, deforum.media.video, deforum.media.srt; "
            "sys.exit('torch' in sys.modules)")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0
