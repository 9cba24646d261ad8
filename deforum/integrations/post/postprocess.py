"""The render's post-processing, as the original did it after stitching: upscale, then frame interpolation.

Each step writes its own frames folder and video, named as the original named them:
``<timestring>_upscaled/<timestring>_%09d.png`` + ``<timestring>_Upscaled_x2.mp4``, and
``interpolated_frames_rife_<timestring>/%09d.png`` (FILM: ``interpolated_frames_film_<timestring>/frame_%09d.png``)
+ ``<timestring>_RIFE_x2[_slomo_x2].mp4`` (``_upscaled.mp4`` appended when made from the upscaled frames).
Torch and the models are imported only when a step runs.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deforum.config.weights import ModelWeightsMissing
from deforum.core.services import CancelToken
from deforum.integrations.post.engines import load_interpolator
from deforum.integrations.post.frame_stream import FrameSource, FrameWriter, files_source, render_frame_paths
from deforum.integrations.post.interpolation import (
    FRAME_PATTERNS,
    PairInterpolator,
    check_amounts,
    drive,
    engine_tag,
    frames_dir_name,
    output_fps,
    video_name,
)
from deforum.media.frames_io import frames_pattern
from deforum.media.video import VideoError, resolve_soundtrack, stitch_video
from deforum.models.settings import Settings

if TYPE_CHECKING:
    from deforum.integrations.post.upscale import Upscaler

log = logging.getLogger(__name__)

StageProgress = Callable[[str, int, int], None]
FOLDER_UNSAFE = re.compile(r'[/\\<>:"|?*., ]')


@dataclass(frozen=True)
class Interpolation:
    """What to interpolate: engine ('RIFE v4.6'/'FILM' or rife/film), amount x, slow-mo amount, keep frames."""

    engine: str
    x: int
    slow_mo: int | None = None
    keep_imgs: bool = True


@dataclass(frozen=True)
class Encoding:
    """ffmpeg options for every video written (the original's WebUI-wide crf/preset/location)."""

    crf: int = 17
    preset: str = "slow"
    ffmpeg: str | None = None


def _stage(progress: StageProgress | None, name: str) -> Callable[[int, int], None] | None:
    """A per-step progress function reporting (stage name, done, total)."""
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def _finish(frames_dir: Path, pattern: str, video: Path, fps: float, count: int, *, audio: str | None,
            subtitles: str | None, keep_imgs: bool, encoding: Encoding) -> Path:
    """Stitch the written frames; delete them when not kept and the video holds every one."""
    result = stitch_video(frames_pattern(frames_dir, pattern), str(video), fps, frame_count=count, soundtrack=audio,
                          subtitles=subtitles, crf=encoding.crf, preset=encoding.preset, ffmpeg=encoding.ffmpeg)
    if not keep_imgs:
        if result.frame_count == count:
            shutil.rmtree(frames_dir, ignore_errors=True)
        else:
            log.warning("Keeping %s: %s holds %d of %d frames.", frames_dir, video, result.frame_count, count)
    return video


def interpolate_sequence(source: FrameSource, job: Interpolation, interpolator: PairInterpolator, *, fps: float,
                         video: Path, frames_dir: Path, audio: str | None = None, subtitles: str | None = None,
                         encoding: Encoding = Encoding(), progress: Callable[[int, int], None] | None = None,
                         cancel: CancelToken | None = None) -> Path:
    """Interpolate `source` into numbered PNGs in `frames_dir`, stitch them at fps·x (÷ slow-mo); audio and
    subtitles are dropped in slow motion. Returns the video path."""
    tag = engine_tag(job.engine)
    check_amounts(tag, job.x, job.slow_mo)
    if job.slow_mo:
        audio = subtitles = None
    shutil.rmtree(frames_dir, ignore_errors=True)
    pattern = FRAME_PATTERNS[tag]
    with FrameWriter(frames_dir, pattern) as writer:
        count = drive(source, interpolator, job.x, writer, progress=progress, cancel=cancel)
    log.info("Interpolated %d frames into %d (%s x%d).", source.count, count, tag, job.x)
    return _finish(frames_dir, pattern, video, output_fps(fps, job.x, job.slow_mo), count, audio=audio,
                   subtitles=subtitles, keep_imgs=job.keep_imgs, encoding=encoding)


def upscale_sequence(source: FrameSource, factor: int, upscaler: Upscaler, *, fps: float, video: Path,
                     frames_dir: Path, pattern: str = "%09d.png", keep_imgs: bool = True, audio: str | None = None,
                     subtitles: str | None = None, encoding: Encoding = Encoding(),
                     progress: Callable[[int, int], None] | None = None, cancel: CancelToken | None = None) -> Path:
    """Upscale `source` (an ``Upscaler``) into `frames_dir / pattern`, then stitch at the same fps with the audio."""
    from deforum.integrations.post.upscale import upscale_frames

    frames_dir.mkdir(parents=True, exist_ok=True)
    with FrameWriter(frames_dir, pattern) as writer:
        count = upscale_frames(source, upscaler, factor, writer, progress=progress, cancel=cancel)
    return _finish(frames_dir, pattern, video, fps, count, audio=audio, subtitles=subtitles, keep_imgs=keep_imgs,
                   encoding=encoding)


def settings_interpolation(settings: Settings) -> Interpolation | None:
    """The render's interpolation request (None when frame_interpolation_engine is 'None')."""
    out = settings.output
    if out.frame_interpolation_engine == "None":
        return None
    slow_mo = out.frame_interpolation_slow_mo_amount if out.frame_interpolation_slow_mo_enabled else None
    return Interpolation(out.frame_interpolation_engine, out.frame_interpolation_x_amount, slow_mo,
                         out.frame_interpolation_keep_imgs)


def check_postprocess_weights(settings: Settings, models_dir: str | None = None, *, upscaler: bool = True) -> None:
    """Download (or, offline, raise ModelWeightsMissing for) the weights a post-processing step will need."""
    from deforum.config.fetch import find_or_download_file

    out = settings.output
    if out.skip_video_creation:
        return
    if upscaler and out.r_upscale_video:
        from deforum.integrations.post.upscale import weights_spec

        find_or_download_file(weights_spec(out.r_upscale_model), models_dir)
    job = settings_interpolation(settings)
    if job is not None:
        if engine_tag(job.engine) == "RIFE":
            from deforum.integrations.post.rife.model import RIFE_WEIGHTS as spec
        else:
            from deforum.integrations.post.film.model import FILM_WEIGHTS as spec
        find_or_download_file(spec, models_dir)


@dataclass(frozen=True)
class _RenderJob:
    """One run's post-processing inputs."""

    settings: Settings
    outdir: Path
    timestring: str
    audio: str | None
    subtitles: str | None
    models_dir: str | None
    encoding: Encoding
    progress: StageProgress | None
    cancel: CancelToken | None

    @property
    def upscaled_dir(self) -> Path:
        """The original's upscaled frames folder, ``<outdir>/<timestring>_upscaled``."""
        return self.outdir / f"{self.timestring}_upscaled"


def _upscale_render(run: _RenderJob, upscaler: Upscaler | None) -> Path:
    """Upscale the render's frames into ``<ts>_upscaled/`` and stitch ``<ts>_Upscaled_x2.mp4``."""
    from deforum.integrations.post.upscale import load_upscaler, parse_factor

    out = run.settings.output
    factor = parse_factor(out.r_upscale_factor)
    source = files_source(render_frame_paths(run.outdir, run.timestring), str(run.outdir))
    active = upscaler or load_upscaler(out.r_upscale_model, models_dir=run.models_dir)
    video = run.outdir / f"{run.timestring}_Upscaled_x{factor}.mp4"
    return upscale_sequence(source, factor, active, fps=out.fps, video=video, frames_dir=run.upscaled_dir,
                            pattern=f"{run.timestring}_%09d.png", audio=run.audio, subtitles=run.subtitles,
                            encoding=run.encoding, progress=_stage(run.progress, "upscale"), cancel=run.cancel)


def _interpolate_render(run: _RenderJob, job: Interpolation, interpolator: PairInterpolator | None) -> Path:
    """Interpolate the render's (or its upscaled) frames into the original's folder and video names."""
    upscaled = render_frame_paths(run.upscaled_dir, run.timestring)
    use_upscaled = run.settings.output.frame_interpolation_use_upscaled and len(upscaled) > 1
    folder = run.upscaled_dir if use_upscaled else run.outdir
    paths = upscaled if use_upscaled else render_frame_paths(run.outdir, run.timestring)
    tag = engine_tag(job.engine)
    name = video_name(run.timestring, tag, job.x, job.slow_mo)
    video = run.outdir / (f"{Path(name).stem}_upscaled.mp4" if use_upscaled else name)
    active = interpolator or load_interpolator(job.engine, models_dir=run.models_dir)
    return interpolate_sequence(files_source(paths, str(folder)), job, active, fps=run.settings.output.fps,
                                video=video, frames_dir=folder / frames_dir_name(tag, run.timestring),
                                audio=run.audio, subtitles=run.subtitles, encoding=run.encoding,
                                progress=_stage(run.progress, "interpolate"), cancel=run.cancel)


def _attempt(what: str, step: Callable[[], Path], produced: list[Path], strict: bool) -> None:
    """Run one step; a failure is logged (or raised when strict) so the other steps still run."""
    try:
        produced.append(step())
    except (ModelWeightsMissing, VideoError, ValueError, OSError) as err:
        if strict:
            raise
        log.error("%s failed, skipping it: %s", what, err)


def run_postprocess(settings: Settings, outdir: Path, timestring: str, video: Path | None, *,
                    models_dir: str | None = None, progress: StageProgress | None = None,
                    upscaler: Upscaler | None = None, interpolator: PairInterpolator | None = None,
                    embed_subtitles: bool = False, encoding: Encoding | None = None,
                    cancel: CancelToken | None = None, strict: bool = False) -> list[Path]:
    """Upscale (r_upscale_video) then interpolate (frame_interpolation_engine) a finished render; returns the
    videos written. Runs only when the render's video was made; call it before frames are deleted."""
    out = settings.output
    frames = render_frame_paths(outdir, timestring)
    if video is None or out.skip_video_creation or not frames:
        return []
    srt = outdir / f"{timestring}.srt"
    run = _RenderJob(settings, Path(outdir), timestring,
                     resolve_soundtrack(out.add_soundtrack, out.soundtrack_path, settings.anim.video_init_path),
                     str(srt) if embed_subtitles and srt.is_file() else None, models_dir, encoding or Encoding(),
                     progress, cancel)
    produced: list[Path] = []
    if out.r_upscale_video:
        _attempt("Upscaling", lambda: _upscale_render(run, upscaler), produced, strict)
    job = settings_interpolation(settings)
    if job is not None:
        _attempt("Frame interpolation", lambda: _interpolate_render(run, job, interpolator), produced, strict)
    if out.r_upscale_video and not out.r_upscale_keep_imgs:
        shutil.rmtree(run.upscaled_dir, ignore_errors=True)
    return produced


def clean_folder_name(name: str) -> str:
    """A file stem made safe as a folder name the original's way (``/\\<>:"|?*.,`` and spaces → ``_``)."""
    return FOLDER_UNSAFE.sub("_", name) or "_"


def tool_folder(kind: str, stem: str, root: Path | None = None) -> Path:
    """``<root or ./outputs>/<kind>/<clean stem>``, suffixed ``_1``, ``_2``… when taken (the original's tabs)."""
    base = (root or Path.cwd() / "outputs") / kind
    name = clean_folder_name(stem)
    candidate, number = base / name, 1
    while candidate.exists():
        candidate, number = base / f"{name}_{number}", number + 1
    return candidate
