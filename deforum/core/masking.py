"""The masks of one render: init/file/video masks, composed mask schedules, noise masks and the overlay."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deforum.animation.keys import AnimationKeys
from deforum.core.mask_compose import compose_mask
from deforum.media.masks import do_overlay_mask, invert_mask, load_alpha_mask, load_mask_file, usable_mask
from deforum.media.video import VideoError, extract_video_frames
from deforum.models.modes import traits
from deforum.models.settings import Settings
from deforum.prompt.mask_expressions import WordMasker, operands

MASK_FRAMES_FOLDER = "maskframes"


def uses_masks(settings: Settings) -> bool:
    """True when the render needs masks (an inpainting mask, a mask video or a noise mask)."""
    a, anim = settings.args, settings.anim
    return a.use_mask or anim.use_mask_video or anim.use_noise_mask


def uses_word_masks(settings: Settings) -> bool:
    """True when a mask schedule in use names `<words>` (CLIPSeg word masks)."""
    a, anim = settings.args, settings.anim
    schedules = ([anim.mask_schedule] if a.use_mask or anim.use_mask_video else []) + \
        ([anim.noise_mask_schedule] if anim.use_noise_mask else [])
    frames = settings.anim.max_frames
    return any("<" in text and any(o.kind == "word" for o in _schedule_operands(text, frames)) for text in schedules)


def _schedule_operands(schedule: str, frames: int) -> list:
    """The operands of every expression a string schedule holds (unparsable ones count as none)."""
    from deforum.animation.schedules import ScheduleError, evaluate_string_schedule
    from deforum.prompt.mask_expressions import MaskExpressionError

    try:
        expressions = set(evaluate_string_schedule(schedule, frames, name="mask_schedule"))
    except ScheduleError:
        return []
    found = []
    for expression in expressions:
        try:
            found.extend(operands(expression))
        except MaskExpressionError:
            continue
    return found


def extract_mask_frames(settings: Settings, outdir: Path) -> tuple[Settings, tuple[Path, ...]]:
    """Extract the mask video to `maskframes/`; max_frames is limited to its frame count (as the original)."""
    anim = settings.anim
    if not anim.use_mask_video:
        return settings, ()
    video = anim.video_mask_path.strip().strip('"')
    try:
        count = extract_video_frames(video, str(outdir / MASK_FRAMES_FOLDER), every_nth=anim.extract_nth_frame,
                                     from_frame=anim.extract_from_frame, to_frame=anim.extract_to_frame,
                                     overwrite=anim.overwrite_extracted_frames, prefix="")
    except VideoError as err:
        raise ValueError(f"Setting 'video_mask_path': {err}") from None
    frames = tuple(outdir / MASK_FRAMES_FOLDER / f"{i:09}.jpg" for i in range(count))
    limited = min(count, anim.max_frames) if traits(anim.animation_mode).video_init else count
    return settings.replace(max_frames=limited), frames


class RenderMasks:
    """Loads the render's base masks once and composes the per-frame ones."""

    def __init__(self, settings: Settings, keys: AnimationKeys, size: tuple[int, int],
                 mask_frames: tuple[Path, ...] = (), word_masker: WordMasker | None = None) -> None:
        a, anim = settings.args, settings.anim
        self.settings, self.keys, self.size, self.mask_frames = settings, keys, size, mask_frames
        self.word_masker = word_masker
        self.adjust = {"brightness": a.mask_brightness_adjust, "contrast": a.mask_contrast_adjust}
        self.use_mask = a.use_mask or anim.use_mask_video
        self.init_alpha = None
        if a.use_init and a.use_alpha_as_mask and a.init_image:
            self.init_alpha = load_alpha_mask(a.init_image, size)
        self.file_mask = None
        if self.use_mask and not anim.use_mask_video and self.init_alpha is None:
            self.file_mask = load_mask_file(a.mask_file, size, setting="mask_file", **self.adjust)

    def _video_mask(self, frame: int) -> np.ndarray | None:
        """The mask video's frame (its last frame once the video is shorter)."""
        if not self.mask_frames:
            return None
        path = self.mask_frames[min(frame, len(self.mask_frames) - 1)]
        return load_mask_file(str(path), self.size, setting="video_mask_path", **self.adjust)

    def base(self, frame: int) -> np.ndarray | None:
        """The frame's base mask: mask video, else init alpha, else mask file."""
        video = self._video_mask(frame)
        if video is not None:
            return video
        return self.init_alpha if self.init_alpha is not None else self.file_mask

    def named(self, frame: int) -> dict[str, np.ndarray | None]:
        """The masks a mask expression can name."""
        init = self.init_alpha if self.init_alpha is not None else self.file_mask
        return {"video_mask": self.base(frame), "init_mask": init}

    def _compose(self, schedule: str, frame: int, image: np.ndarray | None) -> np.ndarray | None:
        """A mask schedule's expression at `frame`, None when it changes nothing."""
        expression = self.keys.strings[schedule][frame]
        return usable_mask(compose_mask(expression, self.named(frame), self.size, image=image,
                                        word_masker=self.word_masker, **self.adjust))

    def generation_mask(self, frame: int, image: np.ndarray | None, composed: bool) -> np.ndarray | None:
        """The inpainting mask for the model service (mask_schedule on warped frames, else the base mask)."""
        if not self.use_mask:
            return None
        mask = self._compose("mask_schedule", frame, image) if composed else None
        return usable_mask(mask if mask is not None else self.base(frame), invert=self.settings.args.invert_mask)

    def noise_mask(self, frame: int, image: np.ndarray | None) -> np.ndarray | None:
        """Where noise is added (noise_mask_schedule with use_noise_mask, else mask_schedule)."""
        anim = self.settings.anim
        if not (self.use_mask or anim.use_noise_mask):
            return None
        mask = self._compose("noise_mask_schedule" if anim.use_noise_mask else "mask_schedule", frame, image)
        if mask is None:
            return None
        return invert_mask(mask) if self.settings.args.invert_mask else mask

    def overlay(self, frame: int, image: np.ndarray, background: np.ndarray | None,
                last_mask: np.ndarray | None) -> np.ndarray:
        """Paste the background (init or video frame) over the frame through the mask (overlay_mask)."""
        a = self.settings.args
        if not (a.overlay_mask and self.use_mask) or background is None:
            return image
        mask = self._video_mask(frame) if self.mask_frames else last_mask
        if mask is None:
            return image
        return do_overlay_mask(image, background, mask, invert=a.invert_mask)
