"""run_postprocess on a tiny render folder: names, frame counts, fps, audio, slow-mo, upscaling, failures."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from deforum.config.weights import ModelWeightsMissing
from deforum.core.services import FrameInterpolator
from deforum.integrations.post.frame_stream import FrameSource, files_source, pattern_paths, video_source, write_png
from deforum.integrations.post.interpolation import (
    BlendInterpolator,
    PairInterpolator,
    check_amounts,
    drive,
    engine_tag,
    film_inbetweens,
    output_fps,
    video_name,
)
from deforum.integrations.post.postprocess import (
    Interpolation,
    check_postprocess_weights,
    clean_folder_name,
    interpolate_sequence,
    run_postprocess,
    tool_folder,
)
from deforum.media.video import count_video_frames, probe_media, stitch_video
from deforum.models.settings import Settings
from tests.integrations.post.test_postprocess_support import (  # noqa: F401
    TS,
    make_tone,
    make_video,
    models,
    read_frames,
    save_film,
    save_rife_weights,
    write_render,
)

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")


class NearestUpscaler:
    """An Upscaler (the WebUI adapter's shape) that repeats pixels."""

    def upscale(self, image: np.ndarray, factor: int) -> np.ndarray:
        """Nearest-neighbour enlargement."""
        return image.repeat(factor, 0).repeat(factor, 1)


def render(tmp_path: Path, count: int = 5, **changes: object) -> tuple[Settings, Path, Path]:
    """A finished tiny render: frames, its main video, and its settings."""
    outdir = tmp_path / "run"
    write_render(outdir, count)
    settings = Settings.from_dict({"fps": 10, **changes})
    video = outdir / f"{TS}.mp4"
    stitch_video(str(outdir / f"{TS}_%09d.png"), str(video), 10, frame_count=count, preset="ultrafast")
    return settings, outdir, video


def test_fps_names_and_amounts() -> None:
    assert output_fps(15, 3) == 45 and output_fps(15, 3, 2) == 22.5 and output_fps(24, 2, 2) == 24
    assert video_name(TS, "RIFE", 2) == f"{TS}_RIFE_x2.mp4"
    assert video_name("clip", "FILM", 5, 3) == "clip_FILM_x5_slomo_x3.mp4"
    assert engine_tag("RIFE v4.6") == "RIFE" and engine_tag("film") == "FILM"
    with pytest.raises(ValueError, match="RIFE interpolation amount must be 2–10"):
        check_amounts("RIFE", 11, None)
    check_amounts("FILM", 300, 2)


def test_blend_interpolation_keeps_the_frame_order(tmp_path: Path) -> None:
    paths = [tmp_path / f"f_{i:09}.png" for i in range(4)]
    for i, path in enumerate(paths):
        write_png(path, np.full((8, 8, 3), 60 * i, np.uint8))
    video = interpolate_sequence(files_source(paths, "in"), Interpolation("rife", 3), BlendInterpolator(), fps=5,
                                 video=tmp_path / "out.mp4", frames_dir=tmp_path / "mid")
    levels = [int(f[0, 0, 0]) for f in read_frames(tmp_path / "mid", "%09d.png", 10)]
    assert levels == [0, 20, 40, 60, 80, 100, 120, 140, 160, 180]
    assert count_video_frames(str(video)) == 10 and probe_media(str(video)).fps == 15


def test_render_interpolation_is_named_timed_and_keeps_audio(tmp_path: Path) -> None:
    tone = make_tone(tmp_path / "tone.m4a")
    settings, outdir, video = render(tmp_path, frame_interpolation_engine="RIFE v4.6", frame_interpolation_x_amount=3,
                                     add_soundtrack="File", soundtrack_path=str(tone),
                                     frame_interpolation_keep_imgs=False)
    produced = run_postprocess(settings, outdir, TS, video, interpolator=BlendInterpolator())
    assert produced == [outdir / f"{TS}_RIFE_x3.mp4"]
    info = probe_media(str(produced[0]))
    assert count_video_frames(str(produced[0])) == 13 and info.fps == 30 and info.has_audio
    assert info.duration == pytest.approx(13 / 30, abs=0.1)
    assert not (outdir / f"interpolated_frames_rife_{TS}").exists()


def test_slow_motion_divides_the_fps_and_drops_the_audio(tmp_path: Path) -> None:
    tone = make_tone(tmp_path / "tone.m4a")
    settings, outdir, video = render(tmp_path, count=3, frame_interpolation_engine="RIFE v4.6",
                                     frame_interpolation_slow_mo_enabled=True, frame_interpolation_slow_mo_amount=4,
                                     add_soundtrack="File", soundtrack_path=str(tone))
    produced = run_postprocess(settings, outdir, TS, video, interpolator=BlendInterpolator())
    assert produced == [outdir / f"{TS}_RIFE_x2_slomo_x4.mp4"]
    info = probe_media(str(produced[0]))
    assert info.fps == 5 and not info.has_audio
    assert len(list((outdir / f"interpolated_frames_rife_{TS}").glob("*.png"))) == 5


def test_rife_with_real_architecture_weights(tmp_path: Path, models: Path) -> None:  # noqa: F811
    save_rife_weights(models / "Deforum" / "RIFE46.pkl")
    settings, outdir, video = render(tmp_path, count=3, frame_interpolation_engine="RIFE v4.6")
    produced = run_postprocess(settings, outdir, TS, video, models_dir=str(models), strict=True)
    assert count_video_frames(str(produced[0])) == 5 and probe_media(str(produced[0])).width == 64


def test_film_counts_and_names(tmp_path: Path, models: Path) -> None:  # noqa: F811
    save_film(models / "Deforum" / "film_interpolation" / "film_net_fp16.pt")
    settings, outdir, video = render(tmp_path, count=3, frame_interpolation_engine="FILM",
                                     frame_interpolation_x_amount=2)
    produced = run_postprocess(settings, outdir, TS, video, models_dir=str(models), strict=True)
    assert produced == [outdir / f"{TS}_FILM_x2.mp4"]
    assert film_inbetweens(3, 2) == 2 and count_video_frames(str(produced[0])) == 7
    paths, start = pattern_paths(str(outdir / f"interpolated_frames_film_{TS}" / "frame_%09d.png"))
    assert start == 0 and len(paths) == 7


def test_upscale_then_interpolate_the_upscaled_frames(tmp_path: Path) -> None:
    settings, outdir, video = render(tmp_path, count=3, r_upscale_video=True, r_upscale_factor="x2",
                                     r_upscale_keep_imgs=False, frame_interpolation_engine="RIFE v4.6",
                                     frame_interpolation_use_upscaled=True)
    stages: list[str] = []
    produced = run_postprocess(settings, outdir, TS, video, upscaler=NearestUpscaler(),
                               interpolator=BlendInterpolator(),
                               progress=lambda stage, done, total: stages.append(stage))
    assert produced == [outdir / f"{TS}_Upscaled_x2.mp4", outdir / f"{TS}_RIFE_x2_upscaled.mp4"]
    assert probe_media(str(produced[0])).width == 128 and probe_media(str(produced[1])).width == 128
    assert count_video_frames(str(produced[1])) == 5
    assert not (outdir / f"{TS}_upscaled").exists()
    assert stages[0] == "upscale" and stages[-1] == "interpolate"


def test_kept_upscaled_frames_use_the_original_names(tmp_path: Path) -> None:
    settings, outdir, video = render(tmp_path, count=2, r_upscale_video=True, r_upscale_factor="x3")
    run_postprocess(settings, outdir, TS, video, upscaler=NearestUpscaler())
    frames = sorted(p.name for p in (outdir / f"{TS}_upscaled").iterdir())
    assert frames == [f"{TS}_000000000.png", f"{TS}_000000001.png"]


def test_missing_weights_are_logged_and_the_other_steps_run(tmp_path: Path, models: Path,  # noqa: F811
                                                             caplog: pytest.LogCaptureFixture) -> None:
    settings, outdir, video = render(tmp_path, count=2, r_upscale_video=True, frame_interpolation_engine="FILM")
    with caplog.at_level(logging.ERROR):
        produced = run_postprocess(settings, outdir, TS, video, models_dir=str(models), upscaler=NearestUpscaler())
    assert produced == [outdir / f"{TS}_Upscaled_x2.mp4"]
    assert "film_net_fp16.pt" in caplog.text
    with pytest.raises(ModelWeightsMissing):
        run_postprocess(settings, outdir, TS, video, models_dir=str(models), upscaler=NearestUpscaler(), strict=True)
    with pytest.raises(ModelWeightsMissing, match="realesr-animevideov3.pth"):
        check_postprocess_weights(settings, str(models))


def test_nothing_runs_without_the_main_video(tmp_path: Path) -> None:
    settings, outdir, _ = render(tmp_path, count=2, frame_interpolation_engine="RIFE v4.6")
    assert run_postprocess(settings, outdir, TS, None, interpolator=BlendInterpolator()) == []
    skipped = settings.replace(skip_video_creation=True)
    assert run_postprocess(skipped, outdir, TS, outdir / f"{TS}.mp4", interpolator=BlendInterpolator()) == []


def test_video_source_streams_every_frame(tmp_path: Path) -> None:
    source = video_source(str(make_video(tmp_path / "v.mp4", frames=4, size=32)))
    frames = list(source.frames())
    assert source.count == 4 and len(frames) == 4 and frames[0].shape == (32, 32, 3)


def test_tool_folders_are_unique_and_clean(tmp_path: Path) -> None:
    assert clean_folder_name("my clip.v2") == "my_clip_v2"
    first = tool_folder("frame-interpolation", "a b", tmp_path)
    first.mkdir(parents=True)
    assert tool_folder("frame-interpolation", "a b", tmp_path) == tmp_path / "frame-interpolation" / "a_b_1"


def test_frames_stream_through_a_bounded_window() -> None:
    events: list[tuple[str, int]] = []

    def frames():
        """Log each read."""
        for i in range(6):
            events.append(("read", i))
            yield np.full((4, 4, 3), 10 * i, np.uint8)

    source = FrameSource(6, 4, 4, frames, "logged")
    written = drive(source, BlendInterpolator(), 3, lambda index, frame: events.append(("write", index)))
    assert written == 16
    for i in range(2, 6):
        before = events[:events.index(("read", i))]
        assert ("write", 3 * (i - 1)) in before and ("write", 3 * (i - 2) + 2) in before


def test_engines_serve_the_render_frame_interpolator_protocol() -> None:
    blend = BlendInterpolator()
    assert isinstance(blend, FrameInterpolator) and isinstance(blend, PairInterpolator)
    out = blend.interpolate([np.zeros((2, 2, 3), np.uint8), np.full((2, 2, 3), 90, np.uint8)], 3)
    assert [int(f[0, 0, 0]) for f in out] == [0, 30, 60, 90]
