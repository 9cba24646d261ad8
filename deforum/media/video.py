"""ffmpeg video output: H.264 MP4 from frames (soundtrack, subtitles), GIF, frame counts and frame extraction."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from deforum.media.frames_io import existing_frames, frame_filename
from deforum.media.remote import UrlInputError, localize
from deforum.models.errors import DeforumError

log = logging.getLogger(__name__)

FFMPEG_ENV = "DEFORUM_FFMPEG"
SOUNDTRACK_CHOICES = ("None", "File", "Init Video")
SUBTITLE_TITLE = "Deforum Data"
STDERR_TAIL_CHARS = 1500
EVEN_SIZE_FILTER = "pad=ceil(iw/2)*2:ceil(ih/2)*2"
GIF_FILTER = "split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a"
PROGRESS_FRAME = re.compile(rb"^frame=(\d+)")

Progress = Callable[[int], None]


class VideoError(DeforumError, RuntimeError):
    """An ffmpeg step failed; the message says what was attempted, what to do, and ends with ffmpeg's stderr."""


@dataclass(frozen=True)
class VideoResult:
    """A written video: where, how many frames it holds, what was muxed in, and soft failures."""

    path: str
    frame_count: int
    has_audio: bool = False
    has_subtitles: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class MediaInfo:
    """What ``ffmpeg -i`` reports about a media file's first video and audio streams."""

    video_codec: str | None
    pix_fmt: str | None
    width: int
    height: int
    fps: float | None
    duration: float | None
    audio_codec: str | None

    @property
    def has_audio(self) -> bool:
        """Whether the file has an audio stream."""
        return self.audio_codec is not None


def ffmpeg_path(override: str | None = None) -> str:
    """The ffmpeg executable: `override`, else $DEFORUM_FFMPEG, else imageio-ffmpeg's bundled binary."""
    candidate = override or os.environ.get(FFMPEG_ENV)
    if candidate:
        resolved = shutil.which(os.path.expanduser(candidate))
        if resolved is None:
            raise VideoError(
                f"ffmpeg not found at {candidate!r} (set by the ffmpeg location option or ${FFMPEG_ENV}). "
                "Point it at an ffmpeg executable, or clear it to use the bundled imageio-ffmpeg binary."
            )
        return resolved
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        system = shutil.which("ffmpeg")
        if system:
            return system
        raise VideoError(f"No ffmpeg available: install imageio-ffmpeg or set ${FFMPEG_ENV}.") from exc


def _run(
    args: Sequence[str], *, what: str, hint: str, progress: Progress | None = None, check: bool = True
) -> tuple[int, str]:
    """Run ffmpeg with `-progress pipe:1`; returns (last frame= value, stderr); VideoError on failure."""
    command = [str(arg) for arg in args]
    with tempfile.TemporaryFile() as stderr:
        try:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        except OSError as exc:
            raise VideoError(f"{what}: could not start ffmpeg at {command[0]!r} ({exc}). {hint}") from exc
        with proc:
            try:
                frames = _pump_progress(proc.stdout, progress)
            except BaseException:
                proc.kill()
                raise
        code = proc.returncode
        stderr.seek(0)
        text = stderr.read().decode("utf-8", errors="replace")
    if check and code != 0:
        tail = text.strip()[-STDERR_TAIL_CHARS:] or "(no output)"
        raise VideoError(f"{what} failed (ffmpeg exit code {code}). {hint}\nffmpeg said:\n{tail}")
    return frames, text


def _pump_progress(stream: IO[bytes] | None, progress: Progress | None) -> int:
    """Read ffmpeg's `-progress` key=value lines, reporting each frame count; returns the last one."""
    frames = 0
    for line in stream or ():
        match = PROGRESS_FRAME.match(line)
        if match:
            frames = int(match.group(1))
            if progress is not None:
                progress(frames)
    return frames


def _ffmpeg_cmd(ffmpeg: str | None) -> list[str]:
    """The common head of every ffmpeg command line."""
    quiet = ["-loglevel", "error", "-progress", "pipe:1", "-nostats"]
    return [ffmpeg_path(ffmpeg), "-hide_banner", "-nostdin", "-y", *quiet]


@contextlib.contextmanager
def _temp_sibling(path: Path, suffix: str) -> Iterator[Path]:
    """A hidden temp path next to `path`, removed afterwards unless it was renamed into place."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")
    try:
        yield temp
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def stitch_video(frames_pattern: str, out_path: str, fps: float, *, start_number: int = 0,
                 frame_count: int | None = None, crf: int = 17, preset: str = "slow", soundtrack: str | None = None,
                 subtitles: str | None = None, progress: Progress | None = None,
                 ffmpeg: str | None = None) -> VideoResult:
    """Encode a `%09d` frame sequence to a browser-playable H.264/yuv420p MP4, then mux soundtrack and subtitles."""
    _check_frames(frames_pattern, start_number, fps)
    target = Path(out_path)
    limit = ["-frames:v", frame_count] if frame_count is not None else []
    with _temp_sibling(target, ".tmp.mp4") as temp:
        _run(
            [*_ffmpeg_cmd(ffmpeg), "-framerate", float(fps), "-pattern_type", "sequence", "-start_number", start_number,
             "-i", frames_pattern, *limit, *x264_output_args(fps, crf, preset), temp],
            what=f"Stitching {frames_pattern} into {target.name}",
            hint="The frames are untouched; check the ffmpeg message, the crf/preset options and free disk space.",
            progress=progress,
        )
        return finish_encoded_video(temp, target, frame_count, soundtrack=soundtrack, subtitles=subtitles,
                                    ffmpeg=ffmpeg)


def x264_output_args(fps: float, crf: int, preset: str) -> list[str | float | int]:
    """The H.264/yuv420p MP4 output options of every render video (even size, faststart)."""
    return ["-vf", EVEN_SIZE_FILTER, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", crf, "-preset", preset,
            "-r", float(fps), "-movflags", "+faststart", "-f", "mp4"]


def finish_encoded_video(temp: Path, target: Path, frame_count: int | None, *, soundtrack: str | None = None,
                         subtitles: str | None = None, ffmpeg: str | None = None) -> VideoResult:
    """Mux soundtrack and subtitles into an encoded temp video, move it to `target`, check its frame count."""
    warnings: list[str] = []
    has_audio = soundtrack is not None and _mux(temp, soundtrack, "audio", warnings, ffmpeg)
    has_subtitles = subtitles is not None and _mux(temp, subtitles, "subtitles", warnings, ffmpeg)
    os.replace(temp, target)
    written = count_video_frames(str(target), ffmpeg=ffmpeg)
    if frame_count is not None and written != frame_count:
        warnings.append(f"{target.name} has {written} frames, expected {frame_count}: the frame sequence has a gap.")
    for warning in warnings:
        log.warning(warning)
    return VideoResult(str(target), written, has_audio, has_subtitles, tuple(warnings))


def _check_frames(frames_pattern: str, start_number: int, fps: float) -> None:
    """Fail early, with a clear message, on a bad fps or a pattern whose first frame is missing."""
    if not fps > 0:
        raise VideoError(f"fps must be positive to stitch a video, got {fps}.")
    try:
        first = frames_pattern % start_number
    except TypeError as exc:
        raise VideoError(f"Frame pattern {frames_pattern!r} needs one %d placeholder, e.g. name_%09d.png.") from exc
    if not os.path.isfile(first):
        raise VideoError(f"No frames to stitch: {first} does not exist (pattern {frames_pattern}).")


def _mux(video: Path, source: str, kind: str, warnings: list[str], ffmpeg: str | None) -> bool:
    """Add AAC audio (cut or silence-padded to the video) or mov_text subtitles in place; False + warning on failure."""
    try:
        source = localize(source, "soundtrack_path", "audio") if kind == "audio" else source
    except UrlInputError as err:
        warnings.append(f"Video written without {kind}: {err}")
        return False
    problem = _source_problem(source, kind, ffmpeg)
    if problem is None:
        if kind == "audio":
            codec = ["-map", "1:a:0", "-c:a", "aac", "-af", "apad", "-shortest"]
        else:
            codec = ["-map", "1:s:0", "-c:s", "mov_text", "-metadata:s:s:0", f"title={SUBTITLE_TITLE}"]
        with _temp_sibling(video, ".mux.mp4") as muxed:
            try:
                _run([*_ffmpeg_cmd(ffmpeg), "-i", video, "-i", source, "-map", "0:v:0", "-c:v", "copy", *codec,
                      "-movflags", "+faststart", "-f", "mp4", muxed], what=f"Adding {kind} from {source}", hint="")
                os.replace(muxed, video)
                return True
            except VideoError as exc:
                problem = str(exc)
    warnings.append(f"Video written without {kind}: {problem}")
    return False


def _source_problem(source: str, kind: str, ffmpeg: str | None) -> str | None:
    """Why `source` cannot supply `kind` (missing file, no audio stream), or None when it looks usable."""
    if not os.path.isfile(source):
        return f"{source} does not exist; check the soundtrack/subtitle path."
    if kind == "audio" and not probe_media(source, ffmpeg=ffmpeg).has_audio:
        return f"{source} has no audio stream."
    return None


def resolve_soundtrack(add_soundtrack: str, soundtrack_path: str, video_init_path: str) -> str | None:
    """The audio source for ``add_soundtrack``: None, the soundtrack file, or the init video (its audio track)."""
    if add_soundtrack not in SOUNDTRACK_CHOICES:
        raise ValueError(f"add_soundtrack must be one of {SOUNDTRACK_CHOICES}, got {add_soundtrack!r}")
    if add_soundtrack == "None":
        return None
    path = soundtrack_path if add_soundtrack == "File" else video_init_path
    return path.strip().strip('"') or None


def extract_audio(media_path: str, out_path: str, *, ffmpeg: str | None = None) -> str:
    """Write the first audio track of `media_path` to `out_path` as AAC in an MP4/M4A container; returns out_path."""
    target = Path(out_path)
    with _temp_sibling(target, ".tmp.m4a") as temp:
        _run([*_ffmpeg_cmd(ffmpeg), "-i", media_path, "-map", "0:a:0", "-vn", "-c:a", "aac", "-f", "mp4", temp],
             what=f"Extracting audio from {media_path}", hint="Check that the file exists and has an audio track.")
        os.replace(temp, target)
    return str(target)


def count_video_frames(path: str, *, ffmpeg: str | None = None) -> int:
    """Number of frames in the first video stream (packets counted with stream copy; no decoding)."""
    frames, _ = _run([*_ffmpeg_cmd(ffmpeg), "-i", path, "-map", "0:v:0", "-c", "copy", "-f", "null", "-"],
                     what=f"Counting frames of {path}", hint="Check that the file exists and is a video.")
    return frames


def probe_media(path: str, *, ffmpeg: str | None = None) -> MediaInfo:
    """Codec, pixel format, size, fps, duration and audio codec of a media file, parsed from ``ffmpeg -i``."""
    _, text = _run([ffmpeg_path(ffmpeg), "-hide_banner", "-nostdin", "-i", path], what=f"Probing {path}", hint="",
                   check=False)
    if "Input #0" not in text:
        raise VideoError(f"Cannot read media file {path}.\nffmpeg said:\n{text.strip()[-STDERR_TAIL_CHARS:]}")
    video = re.search(r"Stream #\d+:\d+.*?: Video: (\w+)[^,\n]*, (\w+)(.*)", text)
    audio = re.search(r"Stream #\d+:\d+.*?: Audio: (\w+)", text)
    size = re.search(r", (\d+)x(\d+)", video.group(3)) if video else None
    fps = re.search(r"([\d.]+) fps", video.group(3)) if video else None
    duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", text)
    return MediaInfo(
        video_codec=video.group(1) if video else None,
        pix_fmt=video.group(2) if video else None,
        width=int(size.group(1)) if size else 0,
        height=int(size.group(2)) if size else 0,
        fps=float(fps.group(1)) if fps else None,
        duration=(int(duration.group(1)) * 3600 + int(duration.group(2)) * 60 + float(duration.group(3)))
        if duration else None,
        audio_codec=audio.group(1) if audio else None,
    )


def make_gif(
    frames_pattern: str,
    out_path: str,
    fps: float,
    *,
    start_number: int = 0,
    frame_count: int | None = None,
    ffmpeg: str | None = None,
) -> str:
    """Write an endlessly looping GIF with a palette computed from all frames (dithered); returns out_path."""
    _check_frames(frames_pattern, start_number, fps)
    target = Path(out_path)
    limit = ["-frames:v", frame_count] if frame_count is not None else []
    with _temp_sibling(target, ".tmp.gif") as temp:
        _run([*_ffmpeg_cmd(ffmpeg), "-framerate", float(fps), "-pattern_type", "sequence",
              "-start_number", start_number, "-i", frames_pattern, *limit,
              "-filter_complex", GIF_FILTER, "-loop", "0", "-f", "gif", temp],
             what=f"Making GIF {target.name}", hint="The frames are untouched; check the message and disk space.")
        os.replace(temp, target)
    return str(target)


def delete_frames_after_verify(
    folder: str, timestring: str, expected_count: int, video_path: str, *, ffmpeg: str | None = None
) -> int:
    """Delete the output PNGs only when they are frames 0..expected_count-1 and the video holds exactly that many."""
    frames = existing_frames(folder, timestring)
    if not frames:
        return 0
    if frames != list(range(expected_count)):
        log.warning("Keeping frames in %s: found %d frame files, expected 0..%d without gaps.",
                    folder, len(frames), expected_count - 1)
        return 0
    try:
        in_video = count_video_frames(video_path, ffmpeg=ffmpeg)
    except VideoError as exc:
        log.warning("Keeping frames in %s: could not verify the video (%s).", folder, exc)
        return 0
    if in_video != expected_count:
        log.warning("Keeping frames in %s: %s has %d frames, expected %d.",
                    folder, video_path, in_video, expected_count)
        return 0
    for frame in frames:
        os.unlink(os.path.join(folder, frame_filename(timestring, frame)))
    log.info("Deleted %d frames from %s after verifying %s.", len(frames), folder, video_path)
    return len(frames)


def extract_video_frames(
    video_path: str,
    out_folder: str,
    *,
    every_nth: int = 1,
    from_frame: int = 0,
    to_frame: int = -1,
    overwrite: bool = False,
    prefix: str | None = None,
    image_format: str = "jpg",
    ffmpeg: str | None = None,
) -> int:
    """Extract frames n (from..to inclusive, n % every_nth == 0) as ``<prefix><i:09>.jpg``, i from 0; returns count."""
    video_path = _local_video(video_path)
    if to_frame != -1 and to_frame < from_frame:
        raise VideoError(f"Extract to frame ({to_frame}) is before extract from frame ({from_frame}).")
    step = max(int(every_nth), 1)
    total = count_video_frames(video_path, ffmpeg=ffmpeg)
    last = total - 1 if to_frame == -1 else min(to_frame, total - 1)
    wanted = len([n for n in range(max(from_frame, 0), last + 1) if n % step == 0])
    if wanted == 0:
        raise VideoError(f"No frames to extract from {video_path} ({total} frames; from {from_frame}, "
                         f"to {to_frame}, every {step}th). Lower extract_nth_frame or widen the range.")
    name = Path(video_path).stem if prefix is None else prefix
    folder = Path(out_folder)
    names = [f"{name}{i:09}.{image_format}" for i in range(wanted)]
    if not overwrite and _has_exactly(folder, names, image_format):
        log.info("Frames already extracted to %s (%d frames).", folder, wanted)
        return wanted
    return _extract_into(video_path, folder, name, image_format, (max(from_frame, 0), last, step, wanted), ffmpeg)


def _local_video(video_path: str) -> str:
    """The local video file: a URL's copy in the run's URL cache; VideoError for a missing file or failed fetch."""
    try:
        local = localize(video_path, "video path", "video")
    except UrlInputError as err:
        raise VideoError(str(err)) from None
    if not os.path.isfile(local):
        raise VideoError(f"Video file not found: {video_path}. Check the video init/mask path setting.")
    return local


def _has_exactly(folder: Path, names: list[str], image_format: str) -> bool:
    """Whether `folder` holds exactly the expected frame files of this format and no others."""
    if not folder.is_dir():
        return False
    present = {p.name for p in folder.glob(f"*.{image_format}") if p.is_file()}
    return present == set(names)


def _extract_into(video_path: str, folder: Path, name: str, image_format: str,
                  selection: tuple[int, int, int, int], ffmpeg: str | None) -> int:
    """Decode the selected frames into a scratch folder, then replace the folder's frame files with them."""
    first, last, step, wanted = selection
    folder.mkdir(parents=True, exist_ok=True)
    select = f"select='between(n\\,{first}\\,{last})*not(mod(n\\,{step}))'"
    quality = ["-q:v", "2"] if image_format.lower() in ("jpg", "jpeg") else []
    with tempfile.TemporaryDirectory(dir=folder, prefix=".extracting-") as scratch:
        pattern = os.path.join(scratch, f"{name.replace('%', '%%')}%09d.{image_format}")
        _run([*_ffmpeg_cmd(ffmpeg), "-i", video_path, "-map", "0:v:0", "-vf", select, "-fps_mode", "passthrough",
              "-frames:v", wanted, *quality, "-start_number", 0, pattern],
             what=f"Extracting frames from {video_path}", hint="Check that the file is a readable video.")
        for old in folder.glob(f"*.{image_format}"):
            old.unlink()
        produced = sorted(Path(scratch).iterdir())
        for path in produced:
            os.replace(path, folder / path.name)
    if len(produced) != wanted:
        log.warning("Extracted %d frames from %s, expected %d.", len(produced), video_path, wanted)
    return len(produced)
