"""The per-frame generation-info subtitles (``<timestring>.srt``) of the original's 'save gen info as .srt' option."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

PROMPT_CHOICE = "Prompt"
BLANK_LINES = re.compile(r"\n\s*\n")
_SANITIZED = str.maketrans("", "", "'\"()")


@dataclass(frozen=True)
class SrtParam:
    """A schedule that can be printed in the subtitles: settings key, UI choice name, label in the text."""

    key: str
    choice: str
    label: str


SRT_PARAMS: tuple[SrtParam, ...] = tuple(
    SrtParam(*row)
    for row in (
        ("angle", "Angle", "Angle"),
        ("transform_center_x", "Trans Center X", "Tr.C.X"),
        ("transform_center_y", "Trans Center Y", "Tr.C.Y"),
        ("zoom", "Zoom", "Zoom"),
        ("translation_x", "Trans X", "TrX"),
        ("translation_y", "Trans Y", "TrY"),
        ("translation_z", "Trans Z", "TrZ"),
        ("rotation_3d_x", "Rot 3D X", "RotX"),
        ("rotation_3d_y", "Rot 3D Y", "RotY"),
        ("rotation_3d_z", "Rot 3D Z", "RotZ"),
        ("perspective_flip_theta", "Per Fl Theta", "PerFlT"),
        ("perspective_flip_phi", "Per Fl Phi", "PerFlP"),
        ("perspective_flip_gamma", "Per Fl Gamma", "PerFlG"),
        ("perspective_flip_fv", "Per Fl FV", "PerFlFV"),
        ("noise_schedule", "Noise Sch", "Noise"),
        ("strength_schedule", "Str Sch", "StrSch"),
        ("contrast_schedule", "Contrast Sch", "CtrstSch"),
        ("cfg_scale_schedule", "CFG Sch", "CFGSch"),
        ("pix2pix_img_cfg_scale_schedule", "P2P Img CFG Sch", "P2PCfgSch"),
        ("subseed_schedule", "Subseed Sch", "SubSSch"),
        ("subseed_strength_schedule", "Subseed Str Sch", "SubSStrSch"),
        ("checkpoint_schedule", "Ckpt Sch", "CkptSch"),
        ("steps_schedule", "Steps Sch", "StepsSch"),
        ("seed_schedule", "Seed Sch", "SeedSch"),
        ("sampler_schedule", "Sampler Sch", "SamplerSchedule"),
        ("clipskip_schedule", "Clipskip Sch", "ClipskipSchedule"),
        ("noise_multiplier_schedule", "Noise Multp Sch", "NoiseMultiplierSchedule"),
        ("mask_schedule", "Mask Sch", "MaskSchedule"),
        ("noise_mask_schedule", "Noise Mask Sch", "NoiseMaskSchedule"),
        ("amount_schedule", "Ant.Blr Amount Sch", "AmountSchedule"),
        ("kernel_schedule", "Ant.Blr Kernel Sch", "KernelSchedule"),
        ("sigma_schedule", "Ant.Blr Sigma Sch", "SigmaSchedule"),
        ("threshold_schedule", "Ant.Blr Threshold Sch", "ThresholdSchedule"),
        ("aspect_ratio_schedule", "Aspect Ratio Sch", "AspectRatioSchedule"),
        ("fov_schedule", "FOV Sch", "FieldOfViewSchedule"),
        ("near_schedule", "Near Sch", "NearSchedule"),
        ("cadence_flow_factor_schedule", "Cadence Flow Factor Sch", "CadenceFlowFactorSchedule"),
        ("redo_flow_factor_schedule", "Redo Flow Factor Sch", "RedoFlowFactorSchedule"),
        ("far_schedule", "Far Sch", "FarSchedule"),
        ("hybrid_comp_alpha_schedule", "Hyb Comp Alpha Sch", "HybridCompAlphaSchedule"),
        ("hybrid_comp_mask_blend_alpha_schedule", "Hyb Comp Mask Blend Alpha Sch", "HybridCompMaskBlendAlphaSchedule"),
        ("hybrid_comp_mask_contrast_schedule", "Hyb Comp Mask Ctrst Sch", "HybridCompMaskContrastSchedule"),
        (
            "hybrid_comp_mask_auto_contrast_cutoff_high_schedule",
            "Hyb Comp Mask Auto Contrast Cutoff High Sch",
            "HybridCompMaskAutoContrastCutoffHighSchedule",
        ),
        (
            "hybrid_comp_mask_auto_contrast_cutoff_low_schedule",
            "Hyb Comp Mask Auto Ctrst Cut Low Sch",
            "HybridCompMaskAutoContrastCutoffLowSchedule",
        ),
        ("hybrid_flow_factor_schedule", "Hybrid Flow Factor Sch", "HybridFlowFactorSchedule"),
    )
)

SRT_PARAM_CHOICES: tuple[str, ...] = (*(param.choice for param in SRT_PARAMS), PROMPT_CHOICE)


def srt_timestamp(milliseconds: int) -> str:
    """``HH:MM:SS,mmm`` for a time in whole milliseconds."""
    seconds, millis = divmod(milliseconds, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02}:{minutes:02}:{seconds:02},{millis:03}"


def frame_time_ms(frame: int, fps: float) -> int:
    """Start of `frame` in whole milliseconds (exact arithmetic, rounded down)."""
    return math.floor(Fraction(frame * 1000) / Fraction(str(fps)))


def srt_cue(frame: int, fps: float, text: str) -> str:
    """One cue: number frame+1, the frame's time span at `fps`, `text` (blank lines removed), a blank line."""
    if frame < 0 or not fps > 0:
        raise ValueError(f"need frame >= 0 and fps > 0, got frame={frame}, fps={fps}")
    body = BLANK_LINES.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n")).strip("\n")
    span = f"{srt_timestamp(frame_time_ms(frame, fps))} --> {srt_timestamp(frame_time_ms(frame + 1, fps))}"
    return f"{frame + 1}\n{span}\n{body}\n\n"


def format_param_value(value: Any) -> str:
    """A schedule value as the original printed it: whole floats as ints, other floats with 3 decimals."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else f"{value:.3f}"
    return f"{value}"


def original_string_value(text: str) -> str:
    """A string schedule's value as the original's series held it: quotes and parentheses removed."""
    return text.translate(_SANITIZED)


def format_frame_params(values: Mapping[str, Any], selected: Collection[str], prompt: str | None = None) -> str:
    """``Label: value; ...`` for the selected choices (in table order), then the prompt if 'Prompt' is selected."""
    parts = [f"{p.label}: {format_param_value(values[p.key])}" for p in SRT_PARAMS if p.choice in selected]
    if PROMPT_CHOICE in selected:
        parts.append(f"{PROMPT_CHOICE}: {prompt}")
    return "; ".join(parts).rstrip("; ")


def frame_info_text(frame: int, seed: int, params: str, tween: float | None = None) -> str:
    """A cue's text; `tween` is None for a diffused frame without cadence, else the cadence tween (1.0 = diffused)."""
    cadence = "false" if tween is None else str(tween < 1.0)
    return f"F#: {frame}; Cadence: {cadence}; Seed: {seed}; {params}"


class SrtWriter:
    """Appends one cue per frame to ``<timestring>.srt``; opened once, flushed after every cue."""

    def __init__(self, path: str | Path, fps: float, *, keep_frames_before: int | None = None) -> None:
        """Start the file empty, or (resume) keep the cues of frames before `keep_frames_before` and append."""
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.fps = fps
        kept = _read_cues_before(self.path, keep_frames_before) if keep_frames_before is not None else ""
        self._file: IO[str] = open(self.path, "w", encoding="utf-8", newline="")
        self._file.write(kept)
        self._file.flush()

    def write(self, frame: int, text: str) -> None:
        """Append the cue for `frame` and flush it to disk."""
        self._file.write(srt_cue(frame, self.fps, text))
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> SrtWriter:
        """Use as a context manager."""
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Close on leaving the block."""
        self.close()


def _read_cues_before(path: Path, frame: int) -> str:
    """The existing file's cues for frames < `frame` (cue numbers <= frame), verbatim; '' if there is no file."""
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    cues = [cue.strip("\n") for cue in content.replace("\r\n", "\n").split("\n\n") if cue.strip()]
    kept = [cue for cue in cues if cue.split("\n", 1)[0].strip().isdigit() and int(cue.split("\n", 1)[0]) <= frame]
    return "".join(f"{cue}\n\n" for cue in kept)
