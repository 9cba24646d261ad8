"""`python -m deforum depth VIDEO_OR_IMAGES`: depth maps of a video (as a depth video) or of images (vid2depth)."""

from __future__ import annotations

import argparse
import sys

from deforum.depth.algorithms import DEFAULT_ALGORITHM
from deforum.depth.locate import DepthModelMissing
from deforum.depth.run import run_depth_command
from deforum.depth.vid2depth import THRESHOLDING_CHOICES, DepthMapOptions
from deforum.media.video import VideoError

EXIT_OK, EXIT_FAILED = 0, 1


def cmd_depth(args: argparse.Namespace) -> int:
    """The `depth` command: run vid2depth and print the output path as the last line."""
    options = DepthMapOptions(
        thresholding=args.thresholding, threshold_value=args.threshold_value,
        threshold_value_max=args.threshold_value_max, adapt_block_size=args.adapt_block_size,
        adapt_c=args.adapt_c, closer_is_brighter=not args.closer_is_darker, end_blur=args.end_blur,
    )
    try:
        output = run_depth_command(
            args.source, algorithm=args.algorithm, out=args.out, models_dir=args.models_dir, device=args.device,
            half=args.half, midas_weight=args.midas_weight, options=options, keep_imgs=not args.no_keep_imgs,
            batch_size=args.batch_size, crf=args.crf, preset=args.preset, ffmpeg=args.ffmpeg,
        )
    except (DepthModelMissing, FileNotFoundError, VideoError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(output)
    return EXIT_OK


def add_depth_command(sub: argparse._SubParsersAction) -> None:
    """Register the `depth` sub-command (vid2depth) on the CLI's sub-parsers."""
    parser = sub.add_parser("depth", help="depth maps of a video (writes a depth video) or of images")
    parser.add_argument("source", help="a video file, an image, or a folder of images")
    parser.add_argument("--algorithm", default=DEFAULT_ALGORITHM,
                        help=f"depth_algorithm value (default {DEFAULT_ALGORITHM}; old names are mapped)")
    parser.add_argument("-o", "--out", help="output folder (default ./outputs/frame-depth/<name>)")
    parser.add_argument("--models-dir", help="folder holding Deforum/<model> (default $DEFORUM_MODELS_DIR, ./models)")
    parser.add_argument("--device", help="torch device (default cuda, then mps, then cpu)")
    parser.add_argument("--half", action=argparse.BooleanOptionalAction, default=None,
                        help="fp16 inference (default: on for CUDA)")
    parser.add_argument("--midas-weight", type=float, default=0.2, help="midas_weight for the '(old)' algorithms")
    parser.add_argument("--thresholding", choices=THRESHOLDING_CHOICES, default="None")
    parser.add_argument("--threshold-value", type=int, default=127, help="lower threshold (Simple)")
    parser.add_argument("--threshold-value-max", type=int, default=255, help="upper/max value")
    parser.add_argument("--adapt-block-size", type=int, default=11, help="adaptive block size (odd)")
    parser.add_argument("--adapt-c", type=float, default=2.0, help="adaptive constant C")
    parser.add_argument("--closer-is-darker", action="store_true", help="invert: near is black (default white)")
    parser.add_argument("--end-blur", type=float, default=0.0, help="Gaussian blur sigma applied last")
    parser.add_argument("--no-keep-imgs", action="store_true", help="delete the depth frames after the video")
    parser.add_argument("--batch-size", type=int, default=4, help="frames per forward pass")
    parser.add_argument("--crf", type=int, default=17)
    parser.add_argument("--preset", default="slow")
    parser.add_argument("--ffmpeg", help="ffmpeg executable (default $DEFORUM_FFMPEG or the bundled one)")
    parser.set_defaults(handler=cmd_depth)
