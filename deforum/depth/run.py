"""vid2depth: depth maps of a video (frames + a depth video with its audio) or of images, for the CLI and the WebUI."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from deforum.depth.algorithms import DEFAULT_ALGORITHM, spec_for
from deforum.depth.estimator import load_depth_estimator
from deforum.depth.locate import find_or_download
from deforum.depth.vid2depth import (
    FRAME_PATTERN,
    IMAGE_EXTENSIONS,
    DepthMapOptions,
    list_images,
    remove_tree,
    safe_name,
    unique_folder,
    write_depth_maps,
)
from deforum.media.video import extract_video_frames, probe_media, stitch_video

__all__ = ["default_out", "run_depth_command"]

DEFAULT_FPS = 30.0


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
    find_or_download(spec_for(algorithm), models_dir)
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
