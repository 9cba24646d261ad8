"""The in-progress preview video: when it is due, and `<timestring>_preview.mp4` remade every N frames in a run."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deforum.core import preview_video
from deforum.core.preview_video import preview_due, preview_path
from deforum.core.run import OutputOptions, run_render
from deforum.media.video import count_video_frames
from tests.core.test_render import preview, small_settings

TIMESTRING = "20240101000000"


def previews_of_a_run(every: int, max_frames: int) -> list[int]:
    """The frame counts previewed when the frames of a run are written one by one."""
    last, made = 0, []
    for done in range(1, max_frames + 1):
        if preview_due(done, every, last, max_frames):
            last = done
            made.append(done)
    return made


@given(st.integers(1, 40), st.integers(1, 300))
def test_a_run_previews_every_n_frames_except_at_its_end(every: int, max_frames: int) -> None:
    made = previews_of_a_run(every, max_frames)
    assert all(count % every == 0 and count < max_frames - 1 for count in made)
    assert len(made) == max(0, (max_frames - 2) // every)


@given(st.integers(1, 300), st.integers(0, 300))
def test_no_preview_when_off(max_frames: int, done: int) -> None:
    assert not preview_due(done, 0, 0, max_frames)


def test_a_resumed_run_previews_once_n_frames_after_the_last() -> None:
    assert preview_due(57, 10, 0, 100) and not preview_due(58, 10, 57, 100) and preview_due(67, 10, 57, 100)


def record_previews(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Each preview video encoded during a run: (file name, frames it holds right after it was written)."""
    made: list[tuple[str, int]] = []
    real = preview_video.stitch_video

    def stitch(pattern: str, out_path: str, fps: float, **kwargs):
        result = real(pattern, out_path, fps, **kwargs)
        made.append((Path(out_path).name, count_video_frames(out_path)))
        return result

    monkeypatch.setattr(preview_video, "stitch_video", stitch)
    return made


@pytest.mark.parametrize("cadence", [1, 3])
def test_run_remakes_the_preview_video_every_n_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      cadence: int) -> None:
    made = record_previews(monkeypatch)
    output = OutputOptions(preset="ultrafast", preview_every=2)
    result = run_render(small_settings(max_frames=7, diffusion_cadence=cadence), preview(), tmp_path,
                        timestring=TIMESTRING, output=output)
    name = f"{TIMESTRING}_preview.mp4"
    assert made == [(name, 2), (name, 4)]
    assert preview_path(result.outdir, TIMESTRING) == result.outdir / name
    assert count_video_frames(str(result.outdir / name)) == 4
    assert count_video_frames(str(result.video)) == 7


def test_no_preview_video_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = record_previews(monkeypatch)
    result = run_render(small_settings(max_frames=5, skip_video_creation=True), preview(), tmp_path,
                        timestring=TIMESTRING)
    assert made == [] and not preview_path(result.outdir, TIMESTRING).exists()


def test_a_failed_preview_is_logged_and_the_render_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise preview_video.VideoError("ffmpeg exploded")

    monkeypatch.setattr(preview_video, "stitch_video", broken)
    result = run_render(small_settings(max_frames=5, skip_video_creation=True), preview(), tmp_path,
                        timestring=TIMESTRING, output=OutputOptions(preview_every=2))
    assert result.frames_written == 5 and not result.cancelled
    assert "Preview video up to frame 2 failed" in caplog.text and "ffmpeg exploded" in caplog.text
