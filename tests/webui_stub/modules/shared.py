"""Stub of modules.shared: opts, state, cmd_opts, the loaded model and OptionInfo."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any


class OptionInfo:
    """One WebUI option: default, label, component, its args and section."""

    def __init__(self, default: Any = None, label: str = "", component: Any = None, component_args: Any = None,
                 onchange: Any = None, section: Any = None, **_: Any) -> None:
        self.default, self.label, self.component = default, label, component
        self.component_args, self.onchange, self.section = component_args, onchange, section


class Options:
    """The WebUI options: values in .data, definitions in .data_labels; attribute access reads/writes data."""

    def __init__(self, data: dict[str, Any]) -> None:
        object.__setattr__(self, "data", dict(data))
        object.__setattr__(self, "data_labels", {})

    def add_option(self, key: str, info: OptionInfo) -> None:
        """Register an option (its default becomes the value when unset)."""
        self.data_labels[key] = info
        self.data.setdefault(key, info.default)

    def __getattr__(self, key: str) -> Any:
        try:
            return self.data[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "restricted_option":
            raise RuntimeError(f"not possible to set '{key}' because it is restricted")
        self.data[key] = value


class State:
    """The WebUI's job state."""

    def __init__(self) -> None:
        self.reset()
        self.begun: list[str] = []

    def reset(self) -> None:
        """Everything back to idle."""
        self.interrupted = self.skipped = False
        self.job, self.job_no, self.job_count = "", 0, 0
        self.current_image = None
        self.previews = 0

    def begin(self, job: str = "(unknown)") -> None:
        """Start a job."""
        self.interrupted = self.skipped = False
        self.job, self.job_no, self.job_count = job, 0, -1
        self.begun.append(job)

    def end(self) -> None:
        """End a job."""
        self.job, self.job_count = "", 0

    def interrupt(self) -> None:
        """The Interrupt button."""
        self.interrupted = True

    def skip(self) -> None:
        """The Skip button (Deforum's Pause/Resume)."""
        self.skipped = True

    def assign_current_image(self, image: Any) -> None:
        """The live preview."""
        self.current_image = image
        self.previews += 1


DEFAULT_OPTIONS = {
    "outdir_samples": "", "outdir_img2img_samples": "outputs/img2img-images", "CLIP_stop_at_last_layers": 1,
    "img2img_fix_steps": True, "initial_noise_multiplier": 1.0, "eta_ddim": 0.0, "eta_ancestral": 1.0,
    "sd_model_checkpoint": "tiny-sd15.safetensors",
}
class TotalTQDM:
    """The console "Total progress" bar: counts its clears and updates (the WebUI's has a tqdm inside)."""

    def __init__(self) -> None:
        self.clears = 0
        self.steps = 0

    def update(self) -> None:
        self.steps += 1

    def clear(self) -> None:
        self.clears += 1
        self.steps = 0


opts = Options(DEFAULT_OPTIONS)
state = State()
total_tqdm = TotalTQDM()
cmd_opts = SimpleNamespace(lowvram=False, medvram=False, no_half=True, api_auth=None, deforum_api=False,
                           deforum_simple_api=False, deforum_run_now=None, deforum_terminate_after_run_now=False,
                           listen=False, share=False, ngrok=None, server_name=None)
sd_model = SimpleNamespace(sd_checkpoint_info=SimpleNamespace(name="tiny-sd15.safetensors", hash="abc123",
                                                              title="tiny-sd15.safetensors [abc123]"))
device = "cpu"
