"""Stub of modules.sd_samplers: names, aliases and the v1.10 sampler/scheduler split of legacy names."""

from __future__ import annotations

from types import SimpleNamespace

from modules import sd_schedulers

NAMES = ("Euler a", "Euler", "DPM++ 2M", "DDIM")
samplers = samplers_for_img2img = [SimpleNamespace(name=n) for n in NAMES]
samplers_map = {n.lower(): n for n in NAMES} | {"k_euler_a": "Euler a"}


def visible_sampler_names() -> list[str]:
    """The samplers the UI offers."""
    return list(NAMES)


def get_sampler_and_scheduler(sampler_name: str, scheduler_name: str, *, convert_automatic: bool = True):
    """Split a legacy "<sampler> <scheduler>" name; unknown samplers fall back to the first one."""
    labels = {s.label: s.label for s in sd_schedulers.schedulers}
    found = labels.get(scheduler_name, "Automatic")
    name = sampler_name or NAMES[0]
    for label in labels:
        if name.endswith(" " + label):
            name, found = name[: -len(label) - 1], label
            break
    return (name if name in NAMES else NAMES[0]), found
