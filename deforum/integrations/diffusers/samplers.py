"""WebUI sampler and schedule-type names mapped to diffusers schedulers and their options."""

from __future__ import annotations

import importlib.util
import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Any

log = logging.getLogger(__name__)

DPMPP = "DPMSolverMultistepScheduler"
SINGLESTEP = "DPMSolverSinglestepScheduler"


@dataclass(frozen=True)
class _Sampler:
    """One WebUI sampler: its diffusers class, fixed options, Automatic schedule and aliases."""

    scheduler_class: str
    options: Mapping[str, Any] = field(default_factory=dict)
    automatic: str = "Uniform"
    timestep_based: bool = False
    nearest: str = ""
    aliases: tuple[str, ...] = ()


def _sampler(cls: str, automatic: str = "Uniform", *aliases: str, nearest: str = "", timesteps: bool = False,
             **options: Any) -> _Sampler:
    """Shorthand for a table row."""
    return _Sampler(cls, MappingProxyType(options), automatic, timesteps, nearest, aliases)


_SDE = {"algorithm_type": "sde-dpmsolver++"}
_SAMPLERS: dict[str, _Sampler] = {
    "DPM++ 2M": _sampler(DPMPP, "Karras", "k_dpmpp_2m", algorithm_type="dpmsolver++", solver_order=2),
    "DPM++ SDE": _sampler("DPMSolverSDEScheduler", "Karras", "k_dpmpp_sde"),
    "DPM++ 2M SDE": _sampler(DPMPP, "Exponential", "k_dpmpp_2m_sde", solver_order=2, solver_type="midpoint", **_SDE),
    "DPM++ 2M SDE Heun": _sampler(DPMPP, "Exponential", "k_dpmpp_2m_sde_heun", solver_order=2, solver_type="heun",
                                  **_SDE),
    "DPM++ 2S a": _sampler(SINGLESTEP, "Karras", "k_dpmpp_2s_a", algorithm_type="dpmsolver++", solver_order=2,
                           lower_order_final=True,
                           nearest="diffusers has no ancestral single-step DPM++; the deterministic DPM++ 2S is used"),
    "DPM++ 3M SDE": _sampler(DPMPP, "Exponential", "k_dpmpp_3m_sde", solver_order=3, **_SDE),
    "Euler a": _sampler("EulerAncestralDiscreteScheduler", "Uniform", "k_euler_a", "k_euler_ancestral"),
    "Euler": _sampler("EulerDiscreteScheduler", "Uniform", "k_euler"),
    "LMS": _sampler("LMSDiscreteScheduler", "Uniform", "k_lms"),
    "Heun": _sampler("HeunDiscreteScheduler", "Uniform", "k_heun"),
    "DPM2": _sampler("KDPM2DiscreteScheduler", "Karras", "k_dpm_2"),
    "DPM2 a": _sampler("KDPM2AncestralDiscreteScheduler", "Karras", "k_dpm_2_a"),
    "DPM fast": _sampler(SINGLESTEP, "Uniform", "k_dpm_fast", algorithm_type="dpmsolver++", solver_order=3,
                         lower_order_final=True,
                         nearest="diffusers has no DPM fast; DPM++ 3S (single-step, order 3) is used"),
    "DPM adaptive": _sampler(DPMPP, "Uniform", "k_dpm_ad", algorithm_type="dpmsolver++", solver_order=2,
                             nearest="diffusers has no adaptive DPM; DPM++ 2M runs the requested steps"),
    "Restart": _sampler("HeunDiscreteScheduler", "Karras", "restart",
                        nearest="diffusers has no Restart sampler; Heun is used"),
    "DDIM": _sampler("DDIMScheduler", "Uniform", "ddim", timesteps=True),
    "DDIM CFG++": _sampler("DDIMScheduler", "Uniform", "ddim_cfgpp", timesteps=True,
                           nearest="diffusers has no CFG++ guidance; plain DDIM is used"),
    "PLMS": _sampler("PNDMScheduler", "Uniform", "plms", timesteps=True, skip_prk_steps=True),
    "UniPC": _sampler("UniPCMultistepScheduler", "Uniform", "unipc", timesteps=True, solver_order=3,
                      lower_order_final=True, timestep_spacing="linspace",
                      nearest="diffusers' bh2 variant is used (its bh1 fails at the final zero sigma)"),
    "LCM": _sampler("LCMScheduler", "Uniform", "lcm"),
    "DEIS": _sampler("DEISMultistepScheduler", "Uniform", "deis"),
}
_FALLBACK_CLASS = {"LMSDiscreteScheduler": ("scipy", "EulerDiscreteScheduler"),
                   "DPMSolverSDEScheduler": ("torchsde", SINGLESTEP)}
_FALLBACK_OPTIONS = {SINGLESTEP: {"algorithm_type": "sde-dpmsolver++", "solver_order": 2, "lower_order_final": True}}

_LINSPACE = {"timestep_spacing": "linspace"}
_SCHEDULES: dict[str, tuple[Mapping[str, Any], str, tuple[str, ...]]] = {
    "Automatic": ({}, "", ("automatic",)),
    "Uniform": (_LINSPACE, "", ("uniform",)),
    "Karras": ({**_LINSPACE, "use_karras_sigmas": True}, "", ("karras", "ka")),
    "Exponential": ({**_LINSPACE, "use_exponential_sigmas": True}, "", ("exponential", "exp")),
    "Polyexponential": ({**_LINSPACE, "use_exponential_sigmas": True}, "", ("polyexponential",)),
    "SGM Uniform": ({"timestep_spacing": "trailing"}, "", ("sgm_uniform", "SGMUniform")),
    "KL Optimal": ({}, "Karras", ("kl_optimal",)),
    "Align Your Steps": ({}, "Karras", ("align_your_steps",)),
    "Align Your Steps GITS": ({}, "Karras", ()),
    "Align Your Steps 11": ({}, "Karras", ()),
    "Align Your Steps 32": ({}, "Karras", ()),
    "Simple": ({"timestep_spacing": "trailing"}, "", ("simple",)),
    "Normal": (_LINSPACE, "", ("normal",)),
    "DDIM": ({"timestep_spacing": "leading", "steps_offset": 1}, "", ("ddim",)),
    "Beta": ({**_LINSPACE, "use_beta_sigmas": True}, "", ("beta",)),
    "Turbo": ({"timestep_spacing": "trailing"}, "SGM Uniform", ("turbo",)),
}
_TIMESTEP_OPTIONS = MappingProxyType({"timestep_spacing": "leading", "steps_offset": 1})

SAMPLER_NAMES: tuple[str, ...] = tuple(_SAMPLERS)
SCHEDULER_NAMES: tuple[str, ...] = tuple(_SCHEDULES)


@dataclass(frozen=True)
class SamplerChoice:
    """A resolved (sampler, schedule type): the diffusers scheduler class, its options, and what was approximated."""

    sampler: str
    schedule: str
    scheduler_class: str
    options: Mapping[str, Any]
    timestep_based: bool
    notices: tuple[str, ...] = ()

    @property
    def key(self) -> tuple:
        """A hashable identity for caching the scheduler instance."""
        return self.scheduler_class, tuple(sorted(self.options.items()))


def _has(module: str) -> bool:
    """True when an optional module can be imported."""
    return importlib.util.find_spec(module) is not None


def _lookup_tables() -> tuple[dict[str, str], dict[str, str]]:
    """Lower-case names and aliases → canonical sampler / schedule names."""
    samplers = {name.lower(): name for name in _SAMPLERS}
    samplers.update({alias.lower(): name for name, row in _SAMPLERS.items() for alias in row.aliases})
    schedules = {name.lower(): name for name in _SCHEDULES}
    schedules.update({alias.lower(): name for name, row in _SCHEDULES.items() for alias in row[2]})
    return samplers, schedules


_SAMPLER_LOOKUP, _SCHEDULE_LOOKUP = _lookup_tables()


def _schedule_name(name: str | None) -> str:
    """Canonical schedule-type name, or a ValueError listing the valid ones."""
    text = (name or "Automatic").strip().strip("\"'") or "Automatic"
    found = _SCHEDULE_LOOKUP.get(text.lower())
    if found is None:
        raise ValueError(f"Unknown scheduler {name!r}; valid schedulers: {', '.join(SCHEDULER_NAMES)}")
    return found


def _split_suffix(text: str) -> tuple[str, str | None]:
    """'DPM++ 2M Karras' → ('DPM++ 2M', 'Karras'); 'k_dpmpp_2m_ka' → ('k_dpmpp_2m', 'Karras')."""
    lowered = text.lower()
    if lowered in _SAMPLER_LOOKUP:
        return text, None
    for suffix, schedule in sorted(_SCHEDULE_LOOKUP.items(), key=lambda kv: -len(kv[0])):
        for sep in (" ", "_"):
            if lowered.endswith(sep + suffix) and lowered[: -len(suffix) - 1] in _SAMPLER_LOOKUP:
                return text[: -len(suffix) - 1], schedule
    return text, None


def _sampler_name(name: str) -> tuple[str, str | None]:
    """Canonical sampler name and the schedule its suffix names, or a ValueError listing the valid names."""
    text = (name or "").strip().strip("\"'")
    base, suffix = _split_suffix(text)
    found = _SAMPLER_LOOKUP.get(base.lower())
    if found is None:
        raise ValueError(f"Unknown sampler {name!r}; valid samplers: {', '.join(SAMPLER_NAMES)} "
                         f"(optionally followed by a scheduler: {', '.join(SCHEDULER_NAMES)})")
    return found, suffix


def _scheduler_class(row: _Sampler, notices: list[str]) -> tuple[str, dict[str, Any]]:
    """The row's class, or its stand-in when an optional dependency is missing."""
    cls, options = row.scheduler_class, dict(row.options)
    if cls in _FALLBACK_CLASS and not _has(_FALLBACK_CLASS[cls][0]):
        module, cls = _FALLBACK_CLASS[cls]
        options = dict(_FALLBACK_OPTIONS.get(cls, {}))
        notices.append(f"{row.scheduler_class} needs the '{module}' package, which is not installed; "
                       f"{cls} is used instead")
    return cls, options


def _schedule_options(schedule: str, notices: list[str]) -> dict[str, Any]:
    """Scheduler options of a schedule type (its stand-in when diffusers lacks it)."""
    options, stand_in, _ = _SCHEDULES[schedule]
    if schedule == "Beta" and not _has("scipy"):
        options, stand_in = _SCHEDULES["Karras"][0], "Karras"
        notices.append("the Beta schedule needs the 'scipy' package, which is not installed")
    if stand_in:
        notices.append(f"diffusers has no {schedule} schedule; {stand_in} is used")
        options = _SCHEDULES[stand_in][0]
    return dict(options)


@cache
def _accepted_options(cls_name: str) -> frozenset[str]:
    """The constructor options a diffusers scheduler class takes."""
    import diffusers

    return frozenset(inspect.signature(getattr(diffusers, cls_name).__init__).parameters)


def _supported(cls_name: str, options: dict[str, Any], schedule: str, notices: list[str]) -> dict[str, Any]:
    """Drop options the class does not take, noting the schedule it cannot follow."""
    accepted = _accepted_options(cls_name)
    dropped = sorted(k for k in options if k not in accepted)
    if any(k.startswith("use_") for k in dropped):
        notices.append(f"{cls_name} cannot follow the {schedule} schedule in diffusers; its default sigmas are used")
    return {k: v for k, v in options.items() if k in accepted}


@lru_cache(maxsize=256)
def resolve_sampler(name: str, scheduler: str | None = "Automatic") -> SamplerChoice:
    """Resolve a WebUI sampler name (aliases, 'Karras'-style suffixes) and schedule type; ValueError when unknown."""
    sampler, suffix = _sampler_name(name)
    schedule = suffix or _schedule_name(scheduler)
    row = _SAMPLERS[sampler]
    notices = [f"sampler {sampler!r}: {row.nearest}"] if row.nearest else []
    cls, options = _scheduler_class(row, notices)
    if row.timestep_based:
        options = {**_TIMESTEP_OPTIONS, **options}
    else:
        effective = row.automatic if schedule == "Automatic" else schedule
        options.update(_schedule_options(effective, notices))
    options = _supported(cls, options, schedule, notices)
    for notice in notices:
        log.info("Deforum diffusers: %s", notice)
    return SamplerChoice(sampler, schedule, cls, MappingProxyType(options), row.timestep_based, tuple(notices))


def make_scheduler(choice: SamplerChoice, base_config: Mapping[str, Any]) -> Any:
    """A diffusers scheduler for the choice, built on the model's own noise schedule (betas, prediction type)."""
    import diffusers

    cls = getattr(diffusers, choice.scheduler_class)
    config = {k: v for k, v in base_config.items() if not k.startswith("_")}
    config.update(choice.options)
    accepted = _accepted_options(choice.scheduler_class)
    return cls.from_config({k: v for k, v in config.items() if k in accepted})
