"""The Output panel's tools in the WebUI: frames to video, vid2depth; and the frames a run leaves for the gallery."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from deforum.core.run import RunResult
from deforum.integrations.post.postprocess import Encoding
from deforum.integrations.post.video_tools import ToolSource, default_video_path, interpolate_video, upscale_video
from deforum.integrations.webui import host, options
from deforum.ui.host import VideoFacts

DEFAULT_DEPTH = "Depth-Anything-V2-Small"
GALLERY_FRAMES = 12
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def ffmpeg_args() -> dict[str, object]:
    """The ffmpeg location, CRF and preset from the Deforum settings section."""
    return {"ffmpeg": options.get("deforum_ffmpeg_location") or None, "crf": int(options.get("deforum_ffmpeg_crf")),
            "preset": str(options.get("deforum_ffmpeg_preset"))}


def recent_frames(result: RunResult, count: int = GALLERY_FRAMES) -> list[str]:
    """The last `count` frame files a run wrote (for the gallery), oldest first."""
    frames = sorted(Path(result.outdir).glob(f"{result.timestring}_[0-9]*.png"))
    frames = [f for f in frames if f.stem.rsplit("_", 1)[-1].isdigit()]
    return [str(f) for f in frames[-count:]]


def frames_to_video(image_path: str, fps: float, soundtrack: str = "") -> str:
    """Stitch a `%09d` frame sequence into `<its folder>/<folder name>.mp4` (`_1`, `_2`... when taken)."""
    from deforum.integrations.post.frame_stream import pattern_paths
    from deforum.media.video import stitch_video

    pattern = str(Path(image_path.strip().strip('"')).expanduser())
    paths, start = pattern_paths(pattern)
    out = default_video_path(pattern)
    result = stitch_video(pattern, str(out), float(fps), start_number=start, frame_count=len(paths),
                          soundtrack=soundtrack.strip() or None, **ffmpeg_args())
    return result.path


def depth_choices() -> list[str]:
    """The depth models vid2depth can use."""
    from deforum.depth import SUPPORTED_MODELS

    return list(SUPPORTED_MODELS)


def vid2depth(paths: list[str], algorithm: str, keep_imgs: bool, midas_weight: float = 0.2,
              thresholding: str = "None", threshold: float = 127, threshold_max: float = 255, block_size: float = 11,
              c_value: float = 2.0, closer_is_brighter: bool = True, end_blur: float = 0) -> str:
    """Depth maps of a video, image or folder (into outputs/frame-depth/), with the WebUI's depth models."""
    from deforum.depth.run import run_depth_command
    from deforum.depth.vid2depth import DepthMapOptions

    map_options = DepthMapOptions(thresholding=thresholding, threshold_value=int(threshold),
                                  threshold_value_max=int(threshold_max), adapt_block_size=int(block_size),
                                  adapt_c=float(c_value), closer_is_brighter=bool(closer_is_brighter),
                                  end_blur=float(end_blur))
    options.apply_download_options()
    args = ffmpeg_args()
    return run_depth_command(one_source(paths), algorithm=algorithm, models_dir=str(host.models_dir()),
                             device=host.device(), keep_imgs=keep_imgs, crf=int(args["crf"]),
                             preset=str(args["preset"]), ffmpeg=args["ffmpeg"], show_progress=False,
                             midas_weight=float(midas_weight), options=map_options)


def one_source(paths: list[str]) -> str:
    """One tool input: the single file or path, or several uploaded pictures copied in name order to a folder."""
    if len(paths) == 1:
        return paths[0]
    folder = host.output_root() / "frame-interpolation" / f"pics_{time.strftime('%Y%m%d%H%M%S')}"
    folder.mkdir(parents=True, exist_ok=True)
    for number, path in enumerate(sorted(paths, key=lambda p: Path(p).name)):
        shutil.copyfile(path, folder / f"{number:09d}{Path(path).suffix.lower()}")
    return str(folder / f"%09d{Path(paths[0]).suffix.lower()}")


def video_facts(paths: list[str]) -> VideoFacts:
    """Frame count, frame rate and size of a video, or of a set of pictures (no frame rate)."""
    from PIL import Image

    from deforum.media.video import count_video_frames, probe_media

    first = Path(paths[0])
    if len(paths) == 1 and first.suffix.lower() not in IMAGE_SUFFIXES:
        info = probe_media(str(first), ffmpeg=ffmpeg_args()["ffmpeg"])
        frames = count_video_frames(str(first), ffmpeg=ffmpeg_args()["ffmpeg"])
        return VideoFacts(frames, info.fps, info.width, info.height)
    with Image.open(first) as picture:
        width, height = picture.size
    return VideoFacts(len(paths), None, width, height)


def _tool_inputs(source: str, fps: float) -> tuple[ToolSource, Encoding]:
    """(ToolSource, Encoding) for an Output-tab tool: the typed path and fps, the WebUI's ffmpeg options."""
    options.apply_download_options()
    encoding = Encoding(**ffmpeg_args())
    return ToolSource(source.strip().strip('"'), float(fps) if fps else None, ffmpeg=encoding.ffmpeg), encoding


def interpolate_tool(paths: list[str], engine: str, x: float, slow_mo: float, keep_imgs: bool, fps: float) -> str:
    """The Output tab's frame interpolation of an uploaded video or pictures (weights from the WebUI models)."""
    tool_source, encoding = _tool_inputs(one_source(paths), fps)
    video = interpolate_video(tool_source, engine, int(x), slow_mo=int(slow_mo) if slow_mo and slow_mo > 1 else None,
                              keep_imgs=bool(keep_imgs), models_dir=str(host.models_dir()), encoding=encoding)
    return str(video)


def upscale_tool(paths: list[str], model: str, factor: str, keep_imgs: bool, fps: float = 0) -> str:
    """The Output tab's Real-ESRGAN upscaling of an uploaded video (or typed frames path)."""
    tool_source, encoding = _tool_inputs(one_source(paths), fps)
    video = upscale_video(tool_source, model, factor, keep_imgs=bool(keep_imgs), models_dir=str(host.models_dir()),
                          encoding=encoding)
    return str(video)
