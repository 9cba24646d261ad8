"""Output tools on the command line: ``interpolate``, ``upscale``, ``frames2video`` and ``video2frames``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deforum.integrations.post.postprocess import Encoding
from deforum.integrations.post.video_tools import ToolSource, default_video_path, interpolate_video, upscale_video
from deforum.media.video import VideoError

EXIT_OK, EXIT_FAILED = 0, 1
ENGINES = {"rife": "RIFE v4.6", "film": "FILM"}
UPSCALE_MODELS = ("realesr-animevideov3", "realesrgan-x4plus", "realesrgan-x4plus-anime")


def _bar(desc: str):
    """A tqdm progress function (done, total) on stderr, and the bar to close."""
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit="frame", file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        """Advance the bar to `done` of `total`."""
        bar.total = total
        bar.update(max(0, done - bar.n))

    return update, bar


def _tool_source(args: argparse.Namespace) -> ToolSource:
    """The tool's input from the command line."""
    return ToolSource(args.source, args.fps, args.audio, args.ffmpeg)


def _run_with_bar(desc: str, tool: Callable[..., Path], args: argparse.Namespace, **options: Any) -> int:
    """Run a video tool on the command line's source with a progress bar; print the resulting video's path last."""
    update, bar = _bar(desc)
    try:
        video = tool(_tool_source(args), keep_imgs=args.keep_imgs, out=Path(args.out) if args.out else None,
                     models_dir=args.models_dir, device=args.device, half=args.half,
                     encoding=Encoding(args.crf, args.preset, args.ffmpeg), progress=update, **options)
    finally:
        bar.close()
    print(video)
    return EXIT_OK


def cmd_interpolate(args: argparse.Namespace) -> int:
    """Interpolate a video or frames with RIFE/FILM; print the interpolated video's path last."""
    return _run_with_bar(f"{args.engine} x{args.x}", interpolate_video, args, engine=ENGINES[args.engine],
                         x=args.x, slow_mo=args.slow_mo)


def cmd_upscale(args: argparse.Namespace) -> int:
    """Upscale a video or frames with a Real-ESRGAN model; print the upscaled video's path last."""
    return _run_with_bar(f"{args.model} {args.factor}", upscale_video, args, model=args.model, factor=args.factor,
                         tile=args.tile)


def cmd_frames2video(args: argparse.Namespace) -> int:
    """Stitch a %09d frame sequence (from its lowest index) into an MP4, optionally a GIF; print the video path."""
    from deforum.integrations.post.frame_stream import pattern_paths
    from deforum.media.video import make_gif, stitch_video

    pattern = str(Path(args.pattern).expanduser())
    paths, start = pattern_paths(pattern)
    out = Path(args.output) if args.output else default_video_path(pattern)
    result = stitch_video(pattern, str(out), args.fps, start_number=start, frame_count=len(paths),
                          soundtrack=args.audio, crf=args.crf, preset=args.preset, ffmpeg=args.ffmpeg)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.gif:
        gif = make_gif(pattern, str(out.with_suffix(".gif")), args.fps, start_number=start, frame_count=len(paths),
                       ffmpeg=args.ffmpeg)
        print(f"gif: {gif}", file=sys.stderr)
    print(result.path)
    return EXIT_OK


def cmd_video2frames(args: argparse.Namespace) -> int:
    """Extract a video's frames as numbered images; print the folder last."""
    from deforum.integrations.post.postprocess import clean_folder_name, tool_folder
    from deforum.media.video import extract_video_frames

    stem = clean_folder_name(Path(args.video).stem)
    folder = Path(args.out) if args.out else tool_folder("video-frames", stem)
    count = extract_video_frames(args.video, str(folder), every_nth=args.every_nth, from_frame=args.from_frame,
                                 to_frame=args.to_frame, overwrite=True, prefix=args.prefix,
                                 image_format=args.format, ffmpeg=args.ffmpeg)
    print(f"{count} frame(s)", file=sys.stderr)
    print(folder)
    return EXIT_OK


def _run(handler):
    """Wrap a command: missing files/weights and ffmpeg failures print one error line and exit 1."""

    def run(args: argparse.Namespace) -> int:
        """Call the command, turning expected failures into an exit status."""
        try:
            return handler(args)
        except (FileNotFoundError, VideoError, OSError) as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_FAILED

    return run


def _add_common(parser: argparse.ArgumentParser, *, models: bool) -> None:
    """Options shared by the tools: output, fps/audio of frame inputs, ffmpeg, and model placement."""
    parser.add_argument("-o", "--out", help="output folder (default ./outputs/<tool>/<name>, _1, _2… when taken)")
    parser.add_argument("--fps", type=float, help="frame rate of the input (default: the video's; required for frames)")
    parser.add_argument("--audio", help="audio file to carry over (default: the input video's own audio)")
    parser.add_argument("--crf", type=int, default=17)
    parser.add_argument("--preset", default="slow")
    parser.add_argument("--ffmpeg", help="ffmpeg executable (default $DEFORUM_FFMPEG or the bundled one)")
    if models:
        parser.add_argument("--models-dir",
                            help="models folder holding Deforum/ (default $DEFORUM_MODELS_DIR, ./models)")
        parser.add_argument("--device", help="torch device (default cuda, then mps, then cpu)")
        parser.add_argument("--half", action=argparse.BooleanOptionalAction, default=None,
                            help="fp16 inference (default: FILM and upscaling on CUDA; RIFE fp32)")
        parser.add_argument("--keep-imgs", action="store_true", help="keep the frames written for the video")


def add_interpolate_command(sub: argparse._SubParsersAction) -> None:
    """Register ``interpolate VIDEO_OR_FRAMES --engine rife|film --x N [--slow-mo N] [--keep-imgs] …``."""
    parser = sub.add_parser("interpolate", help="RIFE/FILM frame interpolation of a video or frames (smooth, slow-mo)")
    parser.add_argument("source", help="a video file, a folder of frames, or a %%09d frame pattern")
    parser.add_argument("--engine", choices=tuple(ENGINES), default="rife")
    parser.add_argument("--x", type=int, default=2, help="interpolation amount (RIFE 2–10, FILM 2–300)")
    parser.add_argument("--slow-mo", type=int, metavar="N", help="slow motion: output fps divided by N, no audio")
    _add_common(parser, models=True)
    parser.set_defaults(handler=_run(cmd_interpolate))


def add_upscale_command(sub: argparse._SubParsersAction) -> None:
    """Register ``upscale VIDEO_OR_FRAMES [--model M] [--factor x2] [--keep-imgs] [--tile N] …``."""
    parser = sub.add_parser("upscale", help="Real-ESRGAN upscaling of a video or frames (local weights)")
    parser.add_argument("source", help="a video file, a folder of frames, or a %%09d frame pattern")
    parser.add_argument("--model", choices=UPSCALE_MODELS, default=UPSCALE_MODELS[0])
    parser.add_argument("--factor", default="x2", help="x2, x3 or x4")
    parser.add_argument("--tile", type=int, default=0, help="process in tiles of this size (0: whole frames)")
    _add_common(parser, models=True)
    parser.set_defaults(handler=_run(cmd_upscale))


def add_frames_command(sub: argparse._SubParsersAction) -> None:
    """Register ``frames2video PATTERN --fps F [--audio FILE] [--gif]`` and ``video2frames VIDEO``."""
    to_video = sub.add_parser("frames2video", help="stitch a %%09d frame sequence into an MP4 (and a GIF)")
    to_video.add_argument("pattern", help="frame pattern, e.g. outputs/run/20240101120000_%%09d.png")
    to_video.add_argument("--fps", type=float, required=True)
    to_video.add_argument("--audio", help="soundtrack to add (cut or padded to the video)")
    to_video.add_argument("-o", "--output", help="video path (default <folder>/<folder name>.mp4)")
    to_video.add_argument("--gif", action="store_true", help="also write a looping GIF next to the video")
    to_video.add_argument("--crf", type=int, default=17)
    to_video.add_argument("--preset", default="slow")
    to_video.add_argument("--ffmpeg", help="ffmpeg executable (default $DEFORUM_FFMPEG or the bundled one)")
    to_video.set_defaults(handler=_run(cmd_frames2video))
    to_frames = sub.add_parser("video2frames", help="extract a video's frames as numbered images")
    to_frames.add_argument("video")
    to_frames.add_argument("-o", "--out", help="output folder (default ./outputs/video-frames/<name>)")
    to_frames.add_argument("--every-nth", type=int, default=1, help="keep every Nth frame")
    to_frames.add_argument("--from-frame", type=int, default=0)
    to_frames.add_argument("--to-frame", type=int, default=-1, help="last frame (inclusive; -1: to the end)")
    to_frames.add_argument("--format", choices=("png", "jpg"), default="png")
    to_frames.add_argument("--prefix", default=None, help="file name prefix (default: the video's name)")
    to_frames.add_argument("--ffmpeg", help="ffmpeg executable (default $DEFORUM_FFMPEG or the bundled one)")
    to_frames.set_defaults(handler=_run(cmd_video2frames))
