"""HybridVideo: one render's hybrid-video source (extracted frames, motion, compositing, colour samples).

Built once per run like the original's ``hybrid_generation``: the init video goes to ``inputframes/`` and
extra frames to ``hybridframes/``. The engine calls its methods at the loop steps listed in
docs/compatibility.md; everything it computes comes from the pure functions of ``media.hybrid`` and
``media.hybrid_motion``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from deforum.animation.keys import AnimationKeys
from deforum.core.services import DepthEstimator, FlowEstimator
from deforum.core.sink import depth_to_png
from deforum.core.steps import frame_size
from deforum.media.flow import WARM_STARTED_FLOWS
from deforum.media.frames_io import depth_filename, input_frame_filename, load_image_source
from deforum.media.human_masks import MASKS_FOLDER, Matting, write_human_masks
from deforum.media.hybrid import hybrid_composite, masked_composite
from deforum.media.hybrid_motion import (
    MATRIX_KINDS,
    HybridFlow,
    flow_visualization,
    hybrid_flow,
    identity_matrix,
    image_transform_optical_flow,
    image_transform_ransac,
    ransac_matrix,
    reliability_visualization,
    resize_for_motion,
)
from deforum.media.remote import UrlInputError, localize
from deforum.media.video import VideoError, extract_video_frames, probe_media
from deforum.models.modes import traits
from deforum.models.settings import Settings

log = logging.getLogger(__name__)
HUMAN_MASKS_MODEL = "rvm_resnet50.pth"
EXTRA_JPEG_QUALITY = 75
FLOW_JPEG_QUALITY = 95


def hybrid_available(settings: Settings) -> bool:
    """The original's test for hybrid video: a composite mode or a hybrid motion is selected."""
    return settings.anim.hybrid_composite != "None" or settings.anim.hybrid_motion != "None"


@dataclass(frozen=True)
class HybridSchedules:
    """The hybrid schedules at one frame (auto-contrast cutoffs truncated to int, as the original)."""

    alpha: float
    mask_blend_alpha: float
    mask_contrast: float
    cutoff_low: int
    cutoff_high: int
    flow_factor: float

    @classmethod
    def at(cls, keys: AnimationKeys, frame: int) -> HybridSchedules:
        """Read the six hybrid schedules at `frame`."""
        return cls(
            alpha=keys.value("hybrid_comp_alpha_schedule", frame),
            mask_blend_alpha=keys.value("hybrid_comp_mask_blend_alpha_schedule", frame),
            mask_contrast=keys.value("hybrid_comp_mask_contrast_schedule", frame),
            cutoff_low=int(keys.value("hybrid_comp_mask_auto_contrast_cutoff_low_schedule", frame)),
            cutoff_high=int(keys.value("hybrid_comp_mask_auto_contrast_cutoff_high_schedule", frame)),
            flow_factor=keys.value("hybrid_flow_factor_schedule", frame),
        )


def _video_path(settings: Settings) -> str:
    """video_init_path without surrounding blanks and quotes."""
    return settings.anim.video_init_path.strip().strip('"')


def _needs_frames(settings: Settings) -> bool:
    """Whether any hybrid step reads the video's frames (not only the init image)."""
    anim = settings.anim
    return (not anim.hybrid_use_init_image or anim.hybrid_motion != "None"
            or anim.hybrid_use_first_frame_as_init_image or anim.color_coherence == "Video Input")


def _clear_images(folder: Path) -> None:
    """Delete the .jpg and .png files of a folder."""
    for path in [*folder.glob("*.jpg"), *folder.glob("*.png")]:
        path.unlink()


def extract_hybrid_frames(settings: Settings, outdir: Path) -> tuple[Path, ...]:
    """The video frames in `inputframes/`: extracted when hybrid_generate_inputframes is on or none are there."""
    anim = settings.anim
    folder, video = outdir / "inputframes", _video_path(settings)
    existing = tuple(sorted(folder.glob("*.jpg")))
    if not anim.hybrid_generate_inputframes and (existing or not _needs_frames(settings)):
        return existing
    if anim.hybrid_generate_inputframes and anim.overwrite_extracted_frames:
        _clear_images(outdir / "hybridframes")
    try:
        count = extract_video_frames(video, str(folder), every_nth=anim.extract_nth_frame,
                                     from_frame=anim.extract_from_frame, to_frame=anim.extract_to_frame,
                                     overwrite=anim.overwrite_extracted_frames)
    except VideoError as err:
        raise ValueError(f"Setting 'video_init_path': {err}") from None
    return tuple(folder / input_frame_filename(video, i) for i in range(count))


def generate_human_masks(settings: Settings, frames: Sequence[Path], outdir: Path, matting: Matting | None) -> None:
    """hybrid_generate_human_masks: matte the input frames into `human_masks/` at the extracted frames' rate."""
    anim = settings.anim
    if anim.hybrid_generate_human_masks == "None":
        return
    if matting is None:
        if not settings.args.motion_preview_mode:
            raise ValueError(f"Setting 'hybrid_generate_human_masks': human masks need the Robust Video Matting "
                             f"model ({HUMAN_MASKS_MODEL}); load it or set it to 'None'.")
        log.warning("No Robust Video Matting model: the motion preview makes no human masks.")
        return
    if not frames:
        log.warning("Human masks: no input frames to matte.")
        return
    fps = _video_fps(anim.video_init_path.strip().strip('"')) or settings.output.fps
    count = write_human_masks(frames, outdir / MASKS_FOLDER, anim.hybrid_generate_human_masks,
                              fps / max(int(anim.extract_nth_frame), 1), matting,
                              overwrite=anim.overwrite_extracted_frames)
    log.info("Human masks: %d written to %s", count, outdir / MASKS_FOLDER)


def _video_fps(path: str) -> float | None:
    """The init video's frame rate, or None when it cannot be read (a folder of frames, a URL ffmpeg refuses)."""
    try:
        return probe_media(localize(path, "video_init_path", "video")).fps
    except (VideoError, UrlInputError):
        return None


def first_frame_is_init(settings: Settings, frames: Sequence[Path]) -> bool:
    """Whether hybrid_use_first_frame_as_init_image makes video frame 0 the init image (2D/3D only)."""
    anim = settings.anim
    first_frame = anim.hybrid_use_first_frame_as_init_image and bool(frames)
    return not traits(anim.animation_mode).video_init and first_frame


def _composite_init_image(settings: Settings, frames: Sequence[Path]) -> np.ndarray | None:
    """What every frame composites toward when hybrid_use_init_image is on (video frame 0 or the init image)."""
    if not settings.anim.hybrid_use_init_image or settings.anim.hybrid_composite == "None":
        return None
    path = str(frames[0]) if first_frame_is_init(settings, frames) else settings.args.init_image or ""
    return load_image_source(path, frame_size(settings), setting="init_image")


def _warn_frames_past_the_video(settings: Settings, count: int) -> None:
    """Say once, before rendering, that frames past the video's end get no hybrid motion."""
    anim = settings.anim
    keeps_length = anim.hybrid_use_init_image and not traits(anim.animation_mode).video_init
    if anim.hybrid_motion != "None" and keeps_length and anim.max_frames > count:
        log.warning("Hybrid motion: frames %d and later are past the %d video frames; no hybrid motion there.",
                    count, count)


@dataclass(frozen=True)
class HybridVideo:
    """Video frames, hybrid motion, compositing and colour samples for one render (frozen: the warm-started flow
    travels in the frame state, passed in and returned by the motion methods)."""

    settings: Settings
    frames: tuple[Path, ...]
    outdir: Path
    timestring: str
    depth: DepthEstimator | None = None
    raft: FlowEstimator | None = None
    init_image: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        """The frame size (W, H)."""
        return frame_size(self.settings)

    @property
    def stem(self) -> str:
        """The video file's stem, used in the extra frames' names."""
        return Path(_video_path(self.settings)).stem

    @property
    def extra(self) -> Path:
        """The `hybridframes/` folder."""
        return self.outdir / "hybridframes"

    @classmethod
    def prepare(cls, settings: Settings, outdir: Path, timestring: str, *, frames: Sequence[Path] | None = None,
                depth: DepthEstimator | None = None, flow: FlowEstimator | None = None,
                matting: Matting | None = None) -> HybridVideo:
        """Check the settings, make `hybridframes/`, extract the video (unless `frames`, Video Input's, given).

        Human masks of the frames go to `human_masks/` when asked for (and `matting` is given).
        """
        anim = settings.anim
        if not traits(anim.animation_mode).hybrid:
            raise ValueError(f"Setting 'animation_mode': hybrid video needs '2D', '3D' or 'Video Input', "
                             f"not {anim.animation_mode!r}; set hybrid_composite and hybrid_motion to 'None'.")
        wants_depth = anim.hybrid_composite != "None" and anim.hybrid_comp_mask_type in ("Depth", "Video Depth")
        if wants_depth and depth is None:
            raise ValueError(f"Setting 'hybrid_comp_mask_type': {anim.hybrid_comp_mask_type!r} masks need a depth "
                             "model; load one or choose 'None', 'Blend' or 'Difference'.")
        if anim.hybrid_motion == "Optical Flow" and anim.hybrid_flow_method == "RAFT" and flow is None:
            raise ValueError("Setting 'hybrid_flow_method': 'RAFT' needs the RAFT model; load it or choose "
                             "'DIS Medium', 'DIS Fine' or 'Farneback'.")
        outdir = Path(outdir)
        (outdir / "hybridframes").mkdir(parents=True, exist_ok=True)
        found = tuple(frames) if frames is not None else extract_hybrid_frames(settings, outdir)
        if not found and not anim.hybrid_use_init_image:
            raise ValueError(f"Setting 'video_init_path': no input frames in {outdir / 'inputframes'}.")
        generate_human_masks(settings, found, outdir, matting)
        _warn_frames_past_the_video(settings, len(found))
        return cls(settings, found, outdir, timestring, depth=depth, raft=flow,
                   init_image=_composite_init_image(settings, found))

    def adjust(self, settings: Settings) -> Settings:
        """The run's settings as the original's hybrid set-up changed them (max_frames, init image, depth maps)."""
        anim, changes = settings.anim, {}
        if not traits(anim.animation_mode).video_init:
            if not anim.hybrid_use_init_image:
                changes["max_frames"] = len(self.frames)
            if self._first_frame_is_init():
                changes.update(init_image=str(self.frames[0]), use_init=True)
        if anim.hybrid_composite != "None" and anim.hybrid_comp_mask_type == "Depth":
            changes["save_depth_maps"] = True
        return settings.replace(**changes) if changes else settings

    def _first_frame_is_init(self) -> bool:
        """Whether hybrid_use_first_frame_as_init_image makes video frame 0 the init image (2D/3D only)."""
        return first_frame_is_init(self.settings, self.frames)

    def frame(self, i: int) -> np.ndarray:
        """Video frame `i` at the frame size, Lanczos-resized (the composite's and colour sample's source)."""
        return load_image_source(str(self.frames[i]), self.size, setting="video_init_path")

    def motion_frame(self, i: int) -> np.ndarray:
        """Video frame `i` at the frame size, bilinear-resized through OpenCV (the motion estimates' source)."""
        bgr = cv2.imread(str(self.frames[i]), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"Setting 'video_init_path': cannot read extracted frame {self.frames[i]}.")
        return cv2.cvtColor(resize_for_motion(bgr, self.size), cv2.COLOR_BGR2RGB)

    def _has_pair(self, i: int) -> bool:
        """Whether video frames i-1 and i exist (a frame past the video has no motion; warned at prepare)."""
        return 0 < i < len(self.frames)

    def _start(self, i: int, prev_image: np.ndarray | None) -> np.ndarray:
        """The motion's first image: the previous generated image (use_prev_img) or video frame i-1."""
        if not self.settings.anim.hybrid_motion_use_prev_img:
            return self.motion_frame(i - 1)
        if prev_image is None:
            raise ValueError("hybrid_motion_use_prev_img needs the previous image")
        return np.asarray(prev_image).astype(np.uint8)

    def motion_matrix(self, i: int, prev_image: np.ndarray | None = None) -> np.ndarray:
        """The Affine/Perspective RANSAC matrix into video frame `i` from frame i-1 (or from `prev_image`)."""
        kind = self.settings.anim.hybrid_motion
        if kind not in MATRIX_KINDS:
            raise ValueError(f"hybrid_motion is {kind!r}, not 'Affine' or 'Perspective'")
        if not self._has_pair(i):
            return identity_matrix(kind)
        return ransac_matrix(self._start(i, prev_image), self.motion_frame(i), kind)

    def flow(self, i: int, prev_image: np.ndarray | None = None,
             warm: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(H×W×2 hybrid flow into video frame `i` from frame i-1 or `prev_image`, the next warm flow); saves extras.

        DIS starts from `warm`, the previous hybrid flow, and returns its new flow as the next one (the engine
        keeps it in the frame state and the resume checkpoint); other methods hand `warm` back unchanged.
        """
        anim = self.settings.anim
        if not self._has_pair(i):
            return np.zeros((self.size[1], self.size[0], 2), dtype=np.float32), warm
        warm_started = anim.hybrid_flow_method in WARM_STARTED_FLOWS
        result = hybrid_flow(self._start(i, prev_image), self.motion_frame(i), anim.hybrid_flow_method,
                             raft=self.raft, consistency=anim.hybrid_flow_consistency,
                             blur=anim.hybrid_consistency_blur, initial=warm if warm_started else None)
        self._save_flow_extras(i, result)
        return result.flow, result.flow if warm_started else warm

    def _save_flow_extras(self, i: int, result: HybridFlow) -> None:
        """The flow (and its reliability mask) as JPEGs in `hybridframes/` when extra frames are asked for."""
        anim = self.settings.anim
        if anim.hybrid_comp_save_extra_frames:
            self._save(f"flow{i - 1:09}.jpg", flow_visualization(self.motion_frame(i - 1), result.flow),
                       FLOW_JPEG_QUALITY)
            if result.reliability is not None:
                self._save(f"flow_mask{i - 1:09}.jpg", reliability_visualization(result.reliability),
                           FLOW_JPEG_QUALITY)

    def apply_motion(self, i: int, images: Sequence[np.ndarray | None], flow_factor: float,
                     prev_image: np.ndarray | None = None,
                     warm: np.ndarray | None = None) -> tuple[list[np.ndarray | None], np.ndarray | None]:
        """(each image moved by frame `i`'s hybrid motion, measured once; the next warm flow); None stays None."""
        kind = self.settings.anim.hybrid_motion
        if kind == "None" or i <= 0:
            return list(images), warm
        if kind in MATRIX_KINDS:
            matrix = self.motion_matrix(i, prev_image)
            return [None if im is None else image_transform_ransac(im, matrix, kind) for im in images], warm
        flow, warm = self.flow(i, prev_image, warm)
        return [None if im is None else image_transform_optical_flow(im, flow, flow_factor) for im in images], warm

    def before_generation(self, frame: int, image: np.ndarray, keys: AnimationKeys,
                          warm: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(the warped previous frame after the 'Before Motion' composite, hybrid motion and 'Normal' composite;
        the next warm flow)."""
        mode, schedules = self.settings.anim.hybrid_composite, HybridSchedules.at(keys, frame)
        if mode == "Before Motion":
            image = self.composite(frame, image, schedules)
        moved, warm = self.apply_motion(frame, [image], schedules.flow_factor, prev_image=image, warm=warm)
        image = moved[0]
        if mode == "Normal":
            image = self.composite(frame, image, schedules)
        return image, warm

    def after_generation(self, frame: int, image: np.ndarray, keys: AnimationKeys) -> np.ndarray:
        """The generated image composited when hybrid_composite is 'After Generation' (frames after the first)."""
        if frame <= 0 or self.settings.anim.hybrid_composite != "After Generation":
            return image
        return self.composite(frame, image, HybridSchedules.at(keys, frame))

    def tween_motion(self, frame: int, prev: np.ndarray | None, nxt: np.ndarray, keys: AnimationKeys, *,
                     schedule_frame: int, advance_prev: bool, advance_next: bool, prev_image: np.ndarray | None,
                     warm: np.ndarray | None = None) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
        """Hybrid motion of a cadence tween on the advancing images (flow factor read at `schedule_frame`), and
        the next warm flow."""
        if frame <= 0:
            return prev, nxt, warm
        flow_factor = HybridSchedules.at(keys, schedule_frame).flow_factor
        (moved_prev, moved_next), warm = self.apply_motion(
            frame, [prev if advance_prev else None, nxt if advance_next else None], flow_factor, prev_image, warm)
        return (moved_prev if advance_prev else prev), (moved_next if advance_next else nxt), warm

    def video_image(self, i: int) -> np.ndarray:
        """What frame `i` composites toward: the init image (hybrid_use_init_image) or video frame `i`."""
        if self.init_image is None:
            return self.frame(i)
        return self.init_image

    def _saved_depth(self, i: int) -> np.ndarray:
        """The depth map the render saved for frame `i`, as an RGB grey image."""
        path = self.outdir / depth_filename(self.timestring, i)
        if not path.is_file():
            raise ValueError(f"Setting 'hybrid_comp_mask_type': 'Depth' reads the depth map {path}, which the "
                             "render did not save; keep save_depth_maps on and a depth model loaded.")
        return load_image_source(str(path), self.size, setting="hybrid_comp_mask_type")

    def _video_depth(self, i: int, video: np.ndarray) -> np.ndarray:
        """Depth of the video image saved as `<stem>_vid_depth<i>.jpg` and read back, as the original did."""
        if self.depth is None:
            raise ValueError("Setting 'hybrid_comp_mask_type': 'Video Depth' needs a depth model.")
        grey = depth_to_png(self.depth.predict(video), getattr(self.depth, "larger_is_nearer", True))
        path = self._save(f"{self.stem}_vid_depth{i:09}.jpg", grey, EXTRA_JPEG_QUALITY)
        with Image.open(path) as saved:
            return np.array(saved.convert("RGB"))

    def composite(self, i: int, image: np.ndarray, schedules: HybridSchedules) -> np.ndarray:
        """Blend `image` toward the video at frame `i` through the mask type's mask; saves extras when asked."""
        anim = self.settings.anim
        video = self.video_image(i)
        mask_type = anim.hybrid_comp_mask_type
        out, mask = hybrid_composite(
            image, video, alpha=schedules.alpha, mask_type=mask_type, mask_inverse=anim.hybrid_comp_mask_inverse,
            equalize=anim.hybrid_comp_mask_equalize, auto_contrast=anim.hybrid_comp_mask_auto_contrast,
            cutoff_low=schedules.cutoff_low, cutoff_high=schedules.cutoff_high,
            mask_contrast=schedules.mask_contrast, mask_blend_alpha=schedules.mask_blend_alpha,
            depth=self._saved_depth(i - 1) if mask_type == "Depth" else None,
            video_depth=self._video_depth(i, video) if mask_type == "Video Depth" else None)
        if anim.hybrid_comp_save_extra_frames:
            if mask is not None:
                self._save(f"{self.stem}_comp{i:09}.jpg", masked_composite(image, video, mask), EXTRA_JPEG_QUALITY)
            self._save(f"{self.stem}_prev{i:09}.jpg", out, EXTRA_JPEG_QUALITY)
        return out

    def color_sample(self, i: int) -> np.ndarray | None:
        """color_coherence 'Video Input': video frame `i` on every Nth frame, else None (keep the sample)."""
        anim = self.settings.anim
        if anim.color_coherence != "Video Input" or i % int(anim.color_coherence_video_every_N_frames) != 0:
            return None
        return self.frame(i) if i < len(self.frames) else None

    def _save(self, name: str, image: np.ndarray, quality: int) -> Path:
        """Write an extra frame to `hybridframes/` as JPEG."""
        path = self.extra / name
        self.extra.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(image, dtype=np.uint8)).save(path, quality=quality)
        return path
