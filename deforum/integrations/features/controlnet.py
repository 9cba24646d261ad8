"""ControlNet units per frame from the cn_N_* settings and schedules; unit input videos/images extracted per unit."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from deforum.animation.keys import AnimationKeys
from deforum.core.inputs import RenderInputs
from deforum.media.remote import UrlInputError, localize
from deforum.media.video import VideoError, extract_video_frames
from deforum.models.errors import DeforumError
from deforum.models.generation import ControlNetUnit
from deforum.models.modes import traits
from deforum.models.settings import Settings
from deforum.models.spec_extra import CONTROLNET_UNITS

log = logging.getLogger(__name__)

HANDLED = "cn_N_enabled"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
STATIC_FRAME = "000000000.jpg"


class ControlNetError(DeforumError, ValueError):
    """A ControlNet unit that cannot be used; the message names the unit and the setting or file."""


@dataclass(frozen=True)
class UnitConfig:
    """The fixed settings of one enabled ControlNet unit (weights and guidance are schedules, read per frame)."""

    number: int
    module: str
    model: str
    loopback: bool = False
    vid_path: str = ""
    mask_vid_path: str = ""
    overwrite_frames: bool = True
    low_vram: bool = False
    pixel_perfect: bool = False
    processor_res: int = 64
    threshold_a: float = 64.0
    threshold_b: float = 64.0
    resize_mode: str = "Inner Fit (Scale to Fit)"
    control_mode: str = "Balanced"

    @classmethod
    def from_settings(cls, settings: Settings, number: int) -> UnitConfig:
        """Unit `number`'s settings (cn_<number>_*)."""
        p = f"cn_{number}_"
        return cls(
            number=number, module=str(settings[p + "module"]), model=str(settings[p + "model"]),
            loopback=bool(settings[p + "loopback_mode"]), vid_path=_clean_path(settings[p + "vid_path"]),
            mask_vid_path=_clean_path(settings[p + "mask_vid_path"]),
            overwrite_frames=bool(settings[p + "overwrite_frames"]), low_vram=bool(settings[p + "low_vram"]),
            pixel_perfect=bool(settings[p + "pixel_perfect"]), processor_res=int(settings[p + "processor_res"]),
            threshold_a=float(settings[p + "threshold_a"]), threshold_b=float(settings[p + "threshold_b"]),
            resize_mode=str(settings[p + "resize_mode"]), control_mode=str(settings[p + "control_mode"]),
        )


def _clean_path(value: object) -> str:
    """A path setting without surrounding whitespace and the double quotes a copied path may carry."""
    text = str(value or "").strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def enabled_units(settings: Settings) -> tuple[UnitConfig, ...]:
    """The enabled units, in unit order."""
    return tuple(UnitConfig.from_settings(settings, n) for n in range(1, CONTROLNET_UNITS + 1)
                 if settings[f"cn_{n}_enabled"])


def frames_folder(outdir: Path, number: int, kind: str = "inputframes") -> Path:
    """`<outdir>/controlnet_<n>_inputframes` (or `_maskframes`), as the original names them."""
    return outdir / f"controlnet_{number}_{kind}"


def _copy_image(source: str, folder: Path, setting: str) -> None:
    """A single input image becomes the unit's one (static) frame."""
    try:
        with Image.open(source) as image:
            rgb = image.convert("RGB")
    except (FileNotFoundError, UnidentifiedImageError, OSError) as err:
        raise ControlNetError(f"Setting '{setting}': cannot read the image {source} ({err}).") from None
    folder.mkdir(parents=True, exist_ok=True)
    rgb.save(folder / STATIC_FRAME, quality=95)


def extract_unit_frames(settings: Settings, outdir: Path, unit: UnitConfig, kind: str = "inputframes") -> Path:
    """Extract a unit's input (or mask) video as `<frame:09>.jpg`, or copy its single image; returns the folder."""
    source, setting = (unit.vid_path, f"cn_{unit.number}_vid_path") if kind == "inputframes" else \
        (unit.mask_vid_path, f"cn_{unit.number}_mask_vid_path")
    folder = frames_folder(outdir, unit.number, kind)
    if source.lower().endswith(IMAGE_SUFFIXES):
        try:
            _copy_image(localize(source, setting, "image"), folder, setting)
        except UrlInputError as err:
            raise ControlNetError(str(err)) from None
        return folder
    anim = settings.anim
    video_mode = traits(anim.animation_mode).video_init
    try:
        extract_video_frames(source, str(folder), every_nth=anim.extract_nth_frame if video_mode else 1,
                             from_frame=anim.extract_from_frame if video_mode else 0,
                             to_frame=anim.extract_to_frame if video_mode else anim.max_frames - 1,
                             overwrite=unit.overwrite_frames, prefix="")
    except VideoError as err:
        raise ControlNetError(f"Setting '{setting}': {err}") from None
    return folder


@dataclass(frozen=True)
class UnitFrames:
    """Where one unit's extracted frames are, and whether a single frame serves every frame."""

    folder: Path
    static: bool

    @classmethod
    def scan(cls, folder: Path) -> UnitFrames:
        """The folder's frames: one file means a static image (as the original counts them)."""
        count = sum(1 for path in folder.iterdir() if path.is_file()) if folder.is_dir() else 0
        return cls(folder, count == 1)

    def read(self, frame: int) -> np.ndarray | None:
        """The frame's image as RGB uint8, None when there is none."""
        path = self.folder / (STATIC_FRAME if self.static else f"{frame:09}.jpg")
        if not path.is_file():
            return None
        with Image.open(path) as image:
            return np.array(image.convert("RGB"), dtype=np.uint8)


@dataclass(frozen=True)
class UnitInputs:
    """One unit's settings and its extracted input and mask frames (None: loopback or no path set)."""

    config: UnitConfig
    images: UnitFrames | None = None
    masks: UnitFrames | None = None


def prepare_inputs(settings: Settings, outdir: Path, units: Sequence[UnitConfig]) -> tuple[UnitInputs, ...]:
    """Extract every non-loopback unit's input and mask frames under `outdir`."""
    prepared = []
    for unit in units:
        if unit.loopback:
            log.info("ControlNet unit %d is in loopback mode: its control image is each frame's init image.",
                     unit.number)
            prepared.append(UnitInputs(unit))
            continue
        images = UnitFrames.scan(extract_unit_frames(settings, outdir, unit)) if unit.vid_path else None
        masks = UnitFrames.scan(extract_unit_frames(settings, outdir, unit, "maskframes")) \
            if unit.mask_vid_path else None
        prepared.append(UnitInputs(unit, images, masks))
    return tuple(prepared)


class ControlNetFrames:
    """The ControlNet source of a render: each generation's enabled units with their control images."""

    def __init__(self, inputs: Sequence[UnitInputs]) -> None:
        self.inputs = tuple(inputs)
        self._warned: set[int] = set()

    def units(self, keys: AnimationKeys, frame: int, init_image: np.ndarray | None) -> tuple[ControlNetUnit, ...]:
        """The units for `frame`; a unit without a control image this frame is left out."""
        built = (self._unit(item, keys, frame, init_image) for item in self.inputs)
        return tuple(unit for unit in built if unit is not None)

    def _unit(self, item: UnitInputs, keys: AnimationKeys, frame: int,
              init_image: np.ndarray | None) -> ControlNetUnit | None:
        """One unit at `frame`: loopback uses the init image; a missing input frame falls back to it too."""
        config = item.config
        image = item.images.read(frame) if item.images is not None else None
        if image is None:
            image = init_image
        if image is None:
            self._skip(config, frame)
            return None
        n = config.number
        return ControlNetUnit(
            number=n, module=config.module, model=config.model, image=image,
            mask=item.masks.read(frame) if item.masks is not None else None,
            weight=keys.value(f"cn_{n}_weight", frame), guidance_start=keys.value(f"cn_{n}_guidance_start", frame),
            guidance_end=keys.value(f"cn_{n}_guidance_end", frame), resize_mode=config.resize_mode,
            control_mode=config.control_mode, low_vram=config.low_vram, pixel_perfect=config.pixel_perfect,
            processor_res=config.processor_res, threshold_a=config.threshold_a, threshold_b=config.threshold_b,
        )

    def _skip(self, config: UnitConfig, frame: int) -> None:
        """Log (once per unit) that a unit has no control image for a txt2img frame."""
        if config.number in self._warned:
            return
        self._warned.add(config.number)
        reason = "loopback has no init image yet" if config.loopback else \
            f"no input frame {frame:09}.jpg and no init image"
        log.info("ControlNet unit %d is skipped at frame %d: %s.", config.number, frame, reason)


class ControlNetHook:
    """Renders the enabled ControlNet units: extracts their inputs and gives the run a ControlNet source."""

    handles = frozenset({HANDLED})

    def __init__(self, units: Sequence[UnitConfig]) -> None:
        self.units = tuple(units)

    @classmethod
    def from_settings(cls, settings: Settings) -> ControlNetHook | None:
        """The hook for the enabled units, None when no unit is enabled."""
        units = enabled_units(settings)
        return cls(units) if units else None

    def adjust_settings(self, settings: Settings) -> Settings:
        """ControlNet changes no setting."""
        return settings

    def decorate(self, inputs: RenderInputs) -> RenderInputs:
        """The inputs with the ControlNet source (motion preview skips ControlNet, as the original)."""
        if inputs.preview:
            numbers = ", ".join(str(unit.number) for unit in self.units)
            log.info("Motion preview: ControlNet units %s are not applied.", numbers)
            return inputs
        if inputs.outdir is None:
            raise ControlNetError("ControlNet needs the run's output folder to extract its input frames.")
        prepared = prepare_inputs(inputs.settings, inputs.outdir, self.units)
        return dataclasses.replace(inputs, controlnet=ControlNetFrames(prepared))

