"""`python -m deforum depth VIDEO_OR_IMAGES`: depth maps of a video (as a depth video) or of images (vid2depth)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from deforum.depth.algorithms import DEFAULT_ALGORITHM, spec_for
from deforum.depth.estimator import load_depth_estimator
from deforum.depth.locate import DepthModelMissing, find_weights
from deforum.depth.vid2depth import (
    FRAME_PATTERN,
    IMAGE_EXTENSIONS,
    THRESHOLDING_CHOICES,
    DepthMapOptions,
    list_images,
    remove_tree,
    safe_name,
    unique_folder,
    write_depth_maps,
)
from deforum.media.video import VideoError, extract_video_frames, probe_media, stitch_video

DEFAULT_FPS = 30.0
EXIT_OK, EXIT_FAILED = 0, 1


def default_out(source: Path) -> Path:
    """The original's output folder: ./outputs/frame-depth/<name>, suffixed _1, _2… when it exists."""
    return unique_folder(Path.cwd() / "outputs" / "frame-depth" / safe_name(source.stem))


def run_depth_command(source: str, *, algorithm: str = DEFAULT_ALGORITHM, out: str | None = None,
                      models_dir: str | None = None, device: str | None = None, half: bool | None = None,
                      midas_weight: float = 0.2, options: DepthMapOptions | None = None, keep_imgs: bool = True,
                      batch_size: int = 4, crf: int = 17, preset: str = "slow", ffmpeg: str | None = None,
                      show_progress: bool = True) -> str:
    """Write depth maps for a video (frames + ``<name>_depth_<thresholding>.mp4``) or images; returns the output.

    A video gives the MP4's path (its audio kept; the grey frames kept in ``depth_frames_<name>/`` unless
    ``keep_imgs`` is False); a single image gives its ``<stem>_depth.png``; a folder of images the folder
    holding one ``<stem>_depth.png`` per image.
    """
    path = Path(source).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{source} does not exist: give a video file, an image, or a folder of images.")
    find_weights(spec_for(algorithm), models_dir)
    target = Path(out).expanduser() if out else default_out(path)
    target.mkdir(parents=True, exist_ok=True)
    job = _DepthJob(algorithm, models_dir, device, half, midas_weight, options or DepthMapOptions(), batch_size,
                    show_progress)
    if path.is_file() and path.suffix.lower() not in IMAGE_EXTENSIONS:
        return _video_to_depth(path, target, job, keep_imgs=keep_imgs, crf=crf, preset=preset, ffmpeg=ffmpeg)
    images = list_images(path)
    outputs = [target / f"{image.stem}_depth.png" for image in images]
    job.run(images, outputs)
    return str(outputs[0] if path.is_file() else target)


class _DepthJob:
    """The model settings of one vid2depth run; ``run`` loads the model, writes the maps, then frees it."""

    def __init__(self, algorithm: str, models_dir: str | None, device: str | None, half: bool | None,
                 midas_weight: float, options: DepthMapOptions, batch_size: int, show_progress: bool) -> None:
        self.algorithm, self.models_dir, self.device, self.half = algorithm, models_dir, device, half
        self.midas_weight, self.options = midas_weight, options
        self.batch_size, self.show_progress = batch_size, show_progress

    def run(self, inputs: list[Path], outputs: list[Path]) -> int:
        """Depth maps of ``inputs`` written to ``outputs``, with a progress bar."""
        with load_depth_estimator(self.algorithm, models_dir=self.models_dir, device=self.device, half=self.half,
                                  midas_weight=self.midas_weight) as estimator:
            with tqdm(total=len(inputs), desc="Vid2depth", unit="frame", disable=not self.show_progress) as bar:
                return write_depth_maps(estimator, inputs, outputs, self.options, batch_size=self.batch_size,
                                        progress=bar.update)


def _video_to_depth(video: Path, target: Path, job: _DepthJob, *, keep_imgs: bool, crf: int, preset: str,
                    ffmpeg: str | None) -> str:
    """Extract the frames, write their depth maps, stitch them (with the video's audio) into an MP4."""
    name = safe_name(video.stem)
    info = probe_media(str(video), ffmpeg=ffmpeg)
    scratch = target / "tmp_input_frames"
    extract_video_frames(str(video), str(scratch), prefix="", image_format="png", overwrite=True, ffmpeg=ffmpeg)
    inputs = sorted(scratch.glob("*.png"))
    frames = target / f"depth_frames_{name}"
    frames.mkdir(exist_ok=True)
    job.run(inputs, [frames / (FRAME_PATTERN % index) for index in range(len(inputs))])
    remove_tree(scratch)
    result = stitch_video(
        str(frames / FRAME_PATTERN), str(target / f"{name}_depth_{safe_name(job.options.thresholding)}.mp4"),
        info.fps or DEFAULT_FPS, frame_count=len(inputs), crf=crf, preset=preset,
        soundtrack=str(video) if info.has_audio else None, ffmpeg=ffmpeg,
    )
    if not keep_imgs:
        remove_tree(frames)
    return result.path


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
