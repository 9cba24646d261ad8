"""`python -m deforum audio FILE --fps 15 [--feature bass] [--map "1 + 0.05*x"] [--threshold T] [--plot out.png]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deforum.animation.variables import AUDIO_FEATURES

EXIT_OK = 0


def cmd_audio(args: argparse.Namespace) -> int:
    """Analyse an audio file: print tempo and beats to stderr, the feature's keyframe string to stdout."""
    from deforum.animation.audio_schedule import feature_schedule, mapped_values
    from deforum.core.schedule_view import audio_plot
    from deforum.media.audio import analyse_file

    cache = Path(args.cache) if args.cache else None
    analysis = analyse_file(args.file, args.fps, cache_dir=cache)
    values = analysis.features[args.feature]
    schedule = feature_schedule(values, args.map, args.threshold, args.decimals)
    beats = ", ".join(str(frame) for frame in analysis.beat_frames)
    print(f"{args.file}: {analysis.duration:.2f} s, {analysis.frame_count} frames at {args.fps:g} fps, "
          f"tempo {analysis.tempo:.2f} BPM (set bpm to use it in schedules)", file=sys.stderr)
    print(f"beat frames: {beats or 'none found'}", file=sys.stderr)
    if args.plot:
        mapped = mapped_values(values, args.map, args.threshold)
        audio_plot(analysis, mapped=mapped).save(args.plot)
        print(f"plot: {args.plot}", file=sys.stderr)
    print(schedule)
    return EXIT_OK


def add_audio_command(sub: argparse._SubParsersAction) -> None:
    """Register the `audio` command."""
    audio = sub.add_parser("audio", help="analyse an audio file: tempo, beats, a feature as a keyframe string")
    audio.add_argument("file", help="audio or video file (decoded with ffmpeg)")
    audio.add_argument("--fps", type=float, default=15.0, help="video frames per second (default 15)")
    audio.add_argument("--feature", choices=AUDIO_FEATURES, default="amp",
                       help="amp (loudness), onset (hits), bass/mid/treble (band energy); each 0–1 (default amp)")
    audio.add_argument("--map", default="x", metavar="FORMULA",
                       help='formula of x (the feature, 0–1) and t (frame), e.g. "1 + 0.05*x" (default x)')
    audio.add_argument("--threshold", type=float, default=None, help="feature values below this count as 0")
    audio.add_argument("--decimals", type=int, default=4, help="decimals of the printed values (default 4)")
    audio.add_argument("--plot", metavar="PNG", help="also draw the features, beats and mapped schedule")
    audio.add_argument("--cache", metavar="DIR", help="analysis cache folder (default $DEFORUM_AUDIO_CACHE or "
                                                     "~/.cache/deforum/audio)")
    audio.set_defaults(handler=cmd_audio)
