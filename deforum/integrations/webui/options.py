"""Deforum's section of the WebUI settings, and WebUI options changed for one run then put back."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from deforum.config.download import Progress
from deforum.config.fetch import configure
from deforum.core.preview_video import DEFAULT_PREVIEW_INTERVAL, preview_interval
from deforum.integrations.webui import host
from deforum.media.srt import SRT_PARAM_CHOICES

log = logging.getLogger(__name__)

SECTION = ("deforum", "Deforum")
FFMPEG_PRESETS = ("veryslow", "slower", "slow", "medium", "fast", "faster", "veryfast", "superfast", "ultrafast")
PREVIEW_CHOICES = ("Off", "On", "On, concurrent (don't pause generation)")
DEFAULT_PERSISTENT_PATH = "models/Deforum/deforum_persistent_settings.txt"
# WebUI options a render changes (the scheduled ones per frame, img2img_fix_steps off for the whole run).
RUN_OPTION_KEYS = ("CLIP_stop_at_last_layers", "img2img_fix_steps", "initial_noise_multiplier", "eta_ddim",
                   "eta_ancestral")


@dataclass(frozen=True)
class OptionDef:
    """One Deforum option of the WebUI settings: key, default, label and its gradio component."""

    key: str
    default: Any
    label: str
    component: str = ""
    args: tuple[tuple[str, Any], ...] = ()


def option_defs(low_vram: bool = False) -> tuple[OptionDef, ...]:
    """The original's Deforum settings section, in its order."""
    return (
        OptionDef("deforum_keep_3d_models_in_vram", False, "Keep 3D models in VRAM between runs", "Checkbox",
                  (("interactive", True), ("visible", not low_vram))),
        OptionDef("deforum_enable_persistent_settings", False, "Keep settings persistent upon relaunch of webui",
                  "Checkbox", (("interactive", True),)),
        OptionDef("deforum_persistent_settings_path", DEFAULT_PERSISTENT_PATH,
                  "Path for saving your persistent settings file:"),
        OptionDef("deforum_ffmpeg_location", "", "FFmpeg path/ location (empty: the bundled imageio-ffmpeg binary)"),
        OptionDef("deforum_ffmpeg_crf", 17, "FFmpeg CRF value", "Slider",
                  (("interactive", True), ("minimum", 0), ("maximum", 51))),
        OptionDef("deforum_ffmpeg_preset", "slow", "FFmpeg Preset", "Dropdown",
                  (("interactive", True), ("choices", list(FFMPEG_PRESETS)))),
        OptionDef("deforum_debug_mode_enabled", False, "Enable Dev mode - adds extra reporting in console",
                  "Checkbox", (("interactive", True),)),
        OptionDef("deforum_save_gen_info_as_srt", False,
                  "Save an .srt (subtitles) file with the generation info along with each animation", "Checkbox",
                  (("interactive", True),)),
        OptionDef("deforum_embed_srt", False,
                  "If .srt file is saved, soft-embed the subtitles into the rendered video file", "Checkbox",
                  (("interactive", True),)),
        OptionDef("deforum_save_gen_info_as_srt_params", ["Noise Sch"],
                  "Choose which animation params are to be saved to the .srt file (Frame # and Seed will always "
                  "be saved):", "DropdownMulti", (("interactive", True), ("choices", list(SRT_PARAM_CHOICES)))),
        OptionDef("deforum_preview", "Off",
                  "Generate preview video during generation? (Preview does not include frame interpolation or "
                  "upscaling.)", "Radio", (("interactive", True), ("choices", list(PREVIEW_CHOICES)))),
        OptionDef("deforum_preview_interval_frames", DEFAULT_PREVIEW_INTERVAL, "Generate preview every N frames",
                  "Slider", (("interactive", True), ("minimum", 10), ("maximum", 500))),
        OptionDef("deforum_offline", False, "Work offline: never download model weights or URL inputs (missing "
                  "files are errors; `deforum models download` fetches them ahead)", "Checkbox",
                  (("interactive", True),)),
        OptionDef("deforum_allow_large_downloads", False, "Allow large downloads (Wan 14B, Qwen: tens of GB) when "
                  "wan_auto_download / wan_qwen_auto_download ask for them", "Checkbox", (("interactive", True),)),
    )


def _component(name: str) -> Any:
    """The gradio (or WebUI) component class an option is edited with."""
    if not name:
        return None
    if name == "DropdownMulti":
        return host.module("ui_components").DropdownMulti
    import gradio as gr

    return getattr(gr, name)


def on_ui_settings() -> None:
    """Register the Deforum section of the WebUI settings (the on_ui_settings callback)."""
    shared = host.shared()
    for item in option_defs(host.low_vram()):
        info = shared.OptionInfo(item.default, item.label, _component(item.component), dict(item.args),
                                 section=SECTION)
        shared.opts.add_option(item.key, info)


def get(key: str) -> Any:
    """A Deforum option's current value (its default when the settings section is not registered)."""
    default = next((item.default for item in option_defs() if item.key == key), None)
    return host.option(key, default)


def apply_download_options() -> None:
    """The offline and large-download options; download progress shows in the tab's progress text."""
    configure(offline=bool(get("deforum_offline")),
              allow_large=bool(get("deforum_allow_large_downloads")), progress=download_progress)


def download_progress(label: str) -> Progress:
    """A progress callback writing 'Downloading <label>: n / total MB' into the WebUI's job state."""

    def update(done: int, total: int | None) -> None:
        size = f"{total / 1e6:.0f} MB" if total else "? MB"
        host.state().textinfo = f"Downloading {label}: {done / 1e6:.0f} / {size}"

    return update


def preview_every() -> int:
    """Frames between in-progress preview videos ("Generate preview video during generation"), 0 when Off."""
    return preview_interval(get("deforum_preview"), get("deforum_preview_interval_frames"))


def subtitle_params() -> list[str] | None:
    """The parameters for `<timestring>.srt`, or None when the option is off."""
    if not get("deforum_save_gen_info_as_srt"):
        return None
    return list(get("deforum_save_gen_info_as_srt_params") or [])


class OptionsOverride:
    """Remember WebUI options, apply overrides for one run, put every remembered value back on exit."""

    def __init__(self, opts: Any, overrides: Mapping[str, Any] | None = None,
                 remember: Iterable[str] = RUN_OPTION_KEYS) -> None:
        self.opts = opts
        self.overrides = dict(overrides or {})
        self.keys = list(dict.fromkeys([*remember, *self.overrides]))
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> OptionsOverride:
        data = self.opts.data
        self.saved = {k: data[k] for k in self.keys if k in data}
        if data.get("img2img_fix_steps"):
            data["img2img_fix_steps"] = False
        for key, value in self.overrides.items():
            self._apply(key, value)
        return self

    def _apply(self, key: str, value: Any) -> None:
        """Set one override the way the original's overrider did (through the options object)."""
        try:
            setattr(self.opts, key, value)
        except (RuntimeError, AssertionError, KeyError) as err:
            log.warning("WebUI option %s not overridden: %s", key, err)
        else:
            log.info("WebUI option %s = %r for this run", key, value)

    def __exit__(self, *exc: object) -> None:
        data = self.opts.data
        for key in self.keys:
            if key in self.saved:
                data[key] = self.saved[key]
            else:
                data.pop(key, None)
