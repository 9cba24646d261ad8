"""WebUI sampler / schedule-type names → diffusers schedulers (no model needed)."""

from __future__ import annotations

import json

import pytest

from deforum.config.deprecations import WEBUI_SAMPLER_ORDER
from deforum.integrations.diffusers.samplers import SAMPLER_NAMES, SCHEDULER_NAMES, make_scheduler, resolve_sampler
from deforum.integrations.diffusers.testing import SCHEDULER_CONFIG

BASE = json.loads(SCHEDULER_CONFIG.read_text())
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize("name", SAMPLER_NAMES)
def test_every_sampler_name_builds_a_scheduler(name: str) -> None:
    choice = resolve_sampler(name)
    scheduler = make_scheduler(choice, BASE)
    scheduler.set_timesteps(10)
    assert type(scheduler).__name__ == choice.scheduler_class
    assert len(scheduler.timesteps) >= 10


@pytest.mark.parametrize("schedule", SCHEDULER_NAMES)
@pytest.mark.parametrize("name", ["Euler", "DPM++ 2M", "Euler a", "DDIM"])
def test_every_schedule_type_resolves(name: str, schedule: str) -> None:
    choice = resolve_sampler(name, schedule)
    make_scheduler(choice, BASE).set_timesteps(8)
    assert choice.schedule == schedule


def test_the_webui_sampler_list_is_covered() -> None:
    assert set(WEBUI_SAMPLER_ORDER) <= set(SAMPLER_NAMES)


@pytest.mark.parametrize(("name", "sampler", "schedule"), [
    ("DPM++ 2M Karras", "DPM++ 2M", "Karras"),
    ("DPM++ 2M SDE Exponential", "DPM++ 2M SDE", "Exponential"),
    ("DPM++ 2M SDE Heun Karras", "DPM++ 2M SDE Heun", "Karras"),
    ("DPM++ 2M SDE", "DPM++ 2M SDE", "Automatic"),
    ("Euler a SGM Uniform", "Euler a", "SGM Uniform"),
    ("LMS Karras", "LMS", "Karras"),
    ("k_dpmpp_2m_ka", "DPM++ 2M", "Karras"),
    ("k_euler_a", "Euler a", "Automatic"),
    ("euler A", "Euler a", "Automatic"),
    (' "DDIM" ', "DDIM", "Automatic"),
])
def test_aliases_and_scheduler_suffixes(name: str, sampler: str, schedule: str) -> None:
    choice = resolve_sampler(name)
    assert (choice.sampler, choice.schedule) == (sampler, schedule)


def test_suffix_wins_over_the_request_scheduler() -> None:
    assert resolve_sampler("DPM++ 2M Karras", "Exponential").schedule == "Karras"


def test_automatic_uses_the_webui_default_schedule_of_the_sampler() -> None:
    assert resolve_sampler("DPM++ 2M").options["use_karras_sigmas"] is True
    assert resolve_sampler("DPM++ 2M SDE").options["use_exponential_sigmas"] is True
    assert resolve_sampler("Euler a").options == {"timestep_spacing": "linspace"}


def test_schedule_types_map_to_diffusers_options() -> None:
    assert resolve_sampler("Euler", "Simple").options["timestep_spacing"] == "trailing"
    assert resolve_sampler("Euler", "Karras").options["use_karras_sigmas"] is True
    assert resolve_sampler("Euler", "DDIM").options == {"timestep_spacing": "leading", "steps_offset": 1}


def test_timestep_samplers_keep_the_webui_ddim_timesteps() -> None:
    choice = resolve_sampler("DDIM", "Karras")
    scheduler = make_scheduler(choice, BASE)
    scheduler.set_timesteps(20)
    assert choice.timestep_based
    assert scheduler.timesteps.tolist() == list(range(951, 0, -50))


def test_approximations_are_noted() -> None:
    assert resolve_sampler("DPM fast").notices
    assert resolve_sampler("Restart").notices
    assert resolve_sampler("Euler a", "Karras").notices
    assert not resolve_sampler("Euler").notices


@pytest.mark.parametrize(("name", "scheduler", "listed"), [
    ("Euler b", "Automatic", "Euler a"), ("", "Automatic", "DPM++ 2M"), ("Euler", "Wobbly", "Karras")])
def test_unknown_names_list_the_valid_ones(name: str, scheduler: str, listed: str) -> None:
    with pytest.raises(ValueError, match="valid") as error:
        resolve_sampler(name, scheduler)
    assert listed in str(error.value)
