"""The Output tab's tools as library calls: interpolate or upscale an existing video or frame sequence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deforum.integrations.post.postprocess import Encoding

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ToolSource:
    """Where the frames come from, their frame rate and the audio to carry over."""

    location: str
    fps: float | None = None
    audio: str | None = None
    ffmpeg: str | None = None


def source_stem(location: str) -> str:
    """The name outputs are called after: a video's stem, a folder's name, a pattern's folder name."""
    path = Path(location).expanduser()
    if path.is_file() or path.is_dir():
        return path.stem if path.is_file() else path.name
    return path.parent.name or "frames"


def default_video_path(pattern: str) -> Path:
    """The original's frames-to-video output: ``<frames folder>/<folder name>.mp4``, ``_1``, ``_2``… if taken."""
    folder = Path(pattern).expanduser().parent
    candidate, number = folder / f"{folder.resolve().name}.mp4", 1
    while candidate.exists():
        candidate, number = folder / f"{folder.resolve().name}_{number}.mp4", number + 1
    return candidate


def fps_and_audio(source: ToolSource) -> tuple[float, str | None]:
    """The source fps (given, or the video's) and the audio to carry (given, or the video's own track)."""
    from deforum.media.video import probe_media

    path = Path(source.location).expanduser()
    if path.is_file():
        info = probe_media(str(path), ffmpeg=source.ffmpeg)
        return source.fps or info.fps or 30.0, source.audio or (str(path) if info.has_audio else None)
    if source.fps is None:
        raise ValueError(f"{source.location} is a set of frames: give their frame rate "
                         "(fps; --fps on the command line).")
    return source.fps, source.audio


def interpolate_video(source: ToolSource, engine: str, x: int, *, slow_mo: int | None = None,
                      keep_imgs: bool = False, out: Path | None = None, models_dir: str | None = None,
                      device: str | None = None, half: bool | None = None, encoding: Encoding | None = None,
                      progress: Progress | None = None) -> Path:
    """RIFE ('RIFE v4.6') or FILM interpolation of a video or frames; returns the interpolated video."""
    from deforum.integrations.post.engines import load_interpolator
    from deforum.integrations.post.frame_stream import open_source
    from deforum.integrations.post.interpolation import (
        check_amounts,
        engine_tag,
        frames_dir_name,
        video_name,
    )
    from deforum.integrations.post.postprocess import (
        Interpolation,
        clean_folder_name,
        interpolate_sequence,
        tool_folder,
    )

    job = Interpolation(engine, x, slow_mo, keep_imgs)
    tag = engine_tag(engine)
    check_amounts(tag, x, slow_mo)
    fps, audio = fps_and_audio(source)
    stem = clean_folder_name(source_stem(source.location))
    folder = out or tool_folder("frame-interpolation", stem)
    folder.mkdir(parents=True, exist_ok=True)
    interpolator = load_interpolator(engine, models_dir=models_dir, device=device, half=half)
    return interpolate_sequence(open_source(source.location, ffmpeg=source.ffmpeg), job, interpolator, fps=fps,
                                video=folder / video_name(stem, tag, x, slow_mo),
                                frames_dir=folder / frames_dir_name(tag, stem), audio=audio,
                                encoding=encoding or Encoding(ffmpeg=source.ffmpeg), progress=progress)


def upscale_video(source: ToolSource, model: str, factor: str, *, keep_imgs: bool = True, out: Path | None = None,
                  models_dir: str | None = None, device: str | None = None, half: bool | None = None,
                  tile: int = 0, encoding: Encoding | None = None, progress: Progress | None = None) -> Path:
    """Real-ESRGAN upscaling of a video or frames ('x2'..'x4'); returns the upscaled video."""
    from deforum.integrations.post.frame_stream import open_source
    from deforum.integrations.post.postprocess import clean_folder_name, tool_folder, upscale_sequence
    from deforum.integrations.post.upscale import load_upscaler, parse_factor

    scale = parse_factor(factor)
    fps, audio = fps_and_audio(source)
    stem = clean_folder_name(source_stem(source.location))
    folder = out or tool_folder("frame-upscaling", stem)
    upscaler = load_upscaler(model, models_dir=models_dir, device=device, half=half, tile=tile)
    return upscale_sequence(open_source(source.location, ffmpeg=source.ffmpeg), scale, upscaler, fps=fps,
                            video=folder / f"{stem}_Upscaled_x{scale}.mp4", frames_dir=folder / "Upscaled_frames",
                            keep_imgs=keep_imgs, audio=audio, encoding=encoding or Encoding(ffmpeg=source.ffmpeg),
                            progress=progress)
