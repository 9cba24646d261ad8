"""Component specs generated from the settings metadata (FIELD_SPECS): pure data, no gradio."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deforum.models.fields import FieldSpec, Kind
from deforum.models.settings import FIELD_SPECS, Settings
from deforum.ui.layout import HIDDEN_KEYS, PROMPT_TEXT_KEYS, layout_keys
from deforum.ui.values import json_text, to_ui_value

ELEM_PREFIX = "deforum_"
MAX_RADIO_CHOICES = 6
MAX_RADIO_TEXT = 20
MAX_SLIDER_SPAN = 1000
ACRONYMS = {"3d": "3D", "2d": "2D", "cfg": "CFG", "fov": "FOV", "ddim": "DDIM", "eta": "ETA", "fps": "FPS",
            "gif": "GIF", "n": "N", "x": "X", "y": "Y", "z": "Z", "fv": "FV", "vram": "VRAM", "hr": "HR",
            "cn": "CN", "t2v": "T2V", "i2v": "I2V", "srt": "SRT", "url": "URL"}
# The original's labels where the key does not read well on its own.
LABELS = {
    "W": "Width", "H": "Height", "fill": "Mask fill", "border": "Border mode", "diffusion_cadence": "Cadence",
    "init_image": "Init image URL", "motion_preview_mode": "Motion preview mode (dry run).",
    "seed_resize_from_w": "Resize seed from width", "seed_resize_from_h": "Resize seed from height",
    "optical_flow_redo_generation": "Optical flow generation", "redo_flow_factor_schedule":
    "Generation flow factor schedule", "midas_weight": "MiDaS/Zoe weight", "save_depth_maps": "Save 3D depth maps",
    "video_init_path": "Video init path/ URL", "use_looper": "Enable guided images mode",
    "init_images": "Images to use for keyframe guidance", "blendFactorMax": "Blend factor max",
    "blendFactorSlope": "Blend factor slope", "parseq_manifest": "Parseq manifest (JSON or URL)",
    "parseq_use_deltas": "Use delta values for movement parameters (recommended)",
    "parseq_non_schedule_overrides": "Use FPS, max_frames and cadence from the Parseq manifest, if present",
    "delete_imgs": "Delete Imgs", "delete_input_frames": "Delete All Inputframes", "r_upscale_video": "Upscale",
    "r_upscale_factor": "Upscale factor", "r_upscale_model": "Upscale model", "r_upscale_keep_imgs": "Keep Imgs",
    "frame_interpolation_engine": "Engine", "frame_interpolation_x_amount": "Interp X",
    "frame_interpolation_slow_mo_enabled": "Slow-Mo", "frame_interpolation_slow_mo_amount": "Slow-Mo X",
    "frame_interpolation_keep_imgs": "Keep Imgs", "frame_interpolation_use_upscaled": "Use Upscaled",
    "animation_prompts_positive": "Prompts positive", "animation_prompts_negative": "Prompts negative",
    "hybrid_use_first_frame_as_init_image": "First frame as init image", "hybrid_flow_consistency":
    "Flow consistency mask", "hybrid_use_init_image": "Use init image as video",
}
INFO = {
    "seed": "starting seed for the animation; -1 for random",
    "batch_name": "output folder inside the img2img output folder; {timestring}, {seed}, {w}, {h}, {prompts}...",
    "strength": "the inverse of denoise; lower values alter the init image more",
    "motion_preview_mode": "preview motion only: no diffusion, a test card and a motion reference rectangle",
    "prompts": "a JSON object of frame number (or expression) to prompt",
    "max_frames": "end the animation at this frame number",
    "diffusion_cadence": "diffuse every Nth frame, blend the frames in between",
}
LINES = {"prompts": 8, "animation_prompts_positive": 2, "animation_prompts_negative": 2, "init_images": 9,
         "parseq_manifest": 4, "wan_prompts": 4}
HOST_CHOICE_KEYS = ("sampler", "scheduler")


@dataclass(frozen=True)
class ComponentSpec:
    """How one setting is shown: the gradio component kind and its arguments."""

    key: str
    component: str
    label: str
    value: Any
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    precision: int | None = None
    lines: int = 1
    allow_custom: bool = False
    visible: bool = True
    info: str = ""

    @property
    def elem_id(self) -> str:
        """The component's HTML id."""
        return ELEM_PREFIX + self.key


def label_for(key: str) -> str:
    """A readable label: the original's where the key reads badly, else the key in words (acronyms kept)."""
    if key in LABELS:
        return LABELS[key]
    words = re.sub(r"^cn_\d+_", "", key).split("_")
    text = " ".join(ACRONYMS.get(w.lower(), w) for w in words if w)
    return text[:1].upper() + text[1:]


def _number_spec(spec: FieldSpec) -> dict[str, Any]:
    """Slider for a short bounded range, number box otherwise."""
    low, high = spec.minimum, spec.maximum
    integer = spec.kind is Kind.INT
    if low is not None and high is not None and high - low <= MAX_SLIDER_SPAN:
        step = 1 if integer else (0.01 if high - low <= 10 else 0.1)
        return {"component": "slider", "minimum": low, "maximum": high, "step": step}
    return {"component": "number", "precision": 0 if integer else None}


def _choice_spec(spec: FieldSpec) -> dict[str, Any]:
    """Radio for a few short choices, dropdown otherwise."""
    choices = tuple(spec.choices)
    if spec.kind is Kind.LOOSE_CHOICE:
        return {"component": "dropdown", "choices": choices, "allow_custom": True}
    short = len(choices) <= MAX_RADIO_CHOICES and all(len(str(c)) <= MAX_RADIO_TEXT for c in choices)
    return {"component": "radio" if short else "dropdown", "choices": choices}


def component_args(spec: FieldSpec) -> dict[str, Any]:
    """The component kind and arguments a setting's kind asks for."""
    if spec.kind is Kind.BOOL:
        return {"component": "checkbox"}
    if spec.kind in (Kind.CHOICE, Kind.LOOSE_CHOICE, Kind.INDEX_CHOICE):
        return _choice_spec(spec)
    if spec.kind in (Kind.INT, Kind.FLOAT) or spec.kind is Kind.NUMBER:
        return _number_spec(spec)
    return {"component": "textbox", "lines": LINES.get(spec.key, 1)}


def _host_choice_args(key: str, host_choices: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """A dropdown of the host's names (samplers, schedule types) for a free-text setting, when it has them."""
    choices = tuple(host_choices.get(key, ()))
    return {"component": "dropdown", "choices": choices, "allow_custom": True} if choices else {}


def component_spec(spec: FieldSpec, value: Any,
                   host_choices: Mapping[str, Sequence[str]] | None = None) -> ComponentSpec:
    """The component for one setting, showing value."""
    args = component_args(spec)
    args.update(_host_choice_args(spec.key, host_choices or {}))
    return ComponentSpec(key=spec.key, label=label_for(spec.key), value=to_ui_value(spec, value),
                         visible=spec.key not in HIDDEN_KEYS, info=INFO.get(spec.key, ""), **args)


def prompt_specs(settings: Settings) -> list[ComponentSpec]:
    """The three prompt text boxes."""
    values = {"prompts": json_text(settings.prompts),
              "animation_prompts_positive": settings.animation_prompts_positive,
              "animation_prompts_negative": settings.animation_prompts_negative}
    return [ComponentSpec(key=k, component="textbox", label=label_for(k), value=values[k], lines=LINES[k],
                          info=INFO.get(k, "")) for k in PROMPT_TEXT_KEYS]


def ui_keys() -> list[str]:
    """Every key with a component, in the order the tab passes them to its handlers."""
    return [*layout_keys(), *HIDDEN_KEYS]


def component_specs(settings: Settings | None = None,
                    host_choices: Mapping[str, Sequence[str]] | None = None) -> dict[str, ComponentSpec]:
    """A spec per key of ui_keys() (settings fields and the prompt boxes), with settings' values."""
    settings = settings or Settings()
    prompts = {s.key: s for s in prompt_specs(settings)}
    flat = settings.to_flat()
    return {key: prompts[key] if key in prompts else component_spec(FIELD_SPECS[key], flat[key], host_choices)
            for key in ui_keys()}
