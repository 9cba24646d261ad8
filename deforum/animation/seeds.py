"""Seed behaviours as pure functions of the generation number (one generation = one diffused frame).

The original advanced the seed after every generation (cadence tweens do not advance it) and generation 0 always
uses the base seed. Its 'random' behaviour drew from Python's unseeded `random`; here every random seed is derived
from (rng_seed or base_seed, generation_index), so a resumed render gets the very same seeds.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

SEED_BEHAVIORS: tuple[str, ...] = ("iter", "fixed", "random", "ladder", "alternate", "schedule")
MAX_SEED = 2**32 - 1
_WEBUI_RANDOM_SEED_RANGE = 4294967294


def resolve_seed(seed: int, rng: random.Random | None = None) -> int:
    """The seed itself, or a random one in 0..2**32-2 for -1 (as the WebUI's get_fixed_seed draws it)."""
    if seed == -1:
        return (rng or random.Random()).randrange(_WEBUI_RANDOM_SEED_RANGE)
    return int(seed)


def derived_random_seed(stream: int, generation_index: int) -> int:
    """A reproducible random seed in 0..2**32-1 for one generation of one stream."""
    return random.Random(f"deforum-seed:{stream}:{generation_index}").randint(0, MAX_SEED)


def seed_for_generation(behavior: str, base_seed: int, generation_index: int, *, iter_n: int = 1,
                        scheduled_seed: float | None = None, rng_seed: int | None = None) -> int:
    """The seed of generation number `generation_index` under a seed behaviour."""
    _check_arguments(behavior, generation_index, iter_n)
    stream = base_seed if rng_seed is None else rng_seed
    if behavior == "schedule":
        if scheduled_seed is None:
            raise ValueError("seed behaviour 'schedule' needs scheduled_seed (seed_schedule at this frame)")
        scheduled = int(scheduled_seed)
        return derived_random_seed(stream, generation_index) if scheduled == -1 else scheduled
    if generation_index == 0 or behavior == "fixed":
        return base_seed
    if behavior == "iter":
        return base_seed + (generation_index + iter_n - 1) // iter_n
    if behavior == "ladder":
        return base_seed + (generation_index // 2 if generation_index % 2 == 0 else (generation_index + 3) // 2)
    if behavior == "alternate":
        return base_seed + generation_index % 2
    return derived_random_seed(stream, generation_index)


def seed_sequence(behavior: str, base_seed: int, count: int, *, iter_n: int = 1,
                  scheduled_seeds: Sequence[float] | None = None, rng_seed: int | None = None) -> tuple[int, ...]:
    """Seeds of generations 0..count-1; for 'schedule', scheduled_seeds[i] is seed_schedule at generation i."""
    if count < 0:
        raise ValueError(f"count must be 0 or more, got {count}")
    if behavior == "schedule" and (scheduled_seeds is None or len(scheduled_seeds) < count):
        raise ValueError(f"seed behaviour 'schedule' needs {count} scheduled seeds")
    return tuple(
        seed_for_generation(behavior, base_seed, index, iter_n=iter_n, rng_seed=rng_seed,
                            scheduled_seed=None if scheduled_seeds is None else scheduled_seeds[index])
        for index in range(count)
    )


def _check_arguments(behavior: str, generation_index: int, iter_n: int) -> None:
    """Reject unknown behaviours, negative generation numbers and iter_n below 1."""
    if behavior not in SEED_BEHAVIORS:
        raise ValueError(f"unknown seed behaviour {behavior!r}; choose one of {', '.join(SEED_BEHAVIORS)}")
    if generation_index < 0:
        raise ValueError(f"generation_index must be 0 or more, got {generation_index}")
    if iter_n < 1:
        raise ValueError(f"seed_iter_N must be 1 or more, got {iter_n}")
