"""Seed behaviours: the original's sequences per generation, reproducible random seeds, no hidden state."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deforum.animation.seeds import (
    MAX_SEED,
    SEED_BEHAVIORS,
    resolve_seed,
    seed_for_generation,
    seed_sequence,
)


def stateful_reference(behavior: str, seed: int, count: int, iter_n: int) -> list[int]:
    """The original's loop: generate with the current seed, then advance it with an internal counter."""
    seeds, internal = [], 0
    for _ in range(count):
        seeds.append(seed)
        if behavior == "iter":
            seed += 1 if internal % iter_n == 0 else 0
            internal += 1
        elif behavior in ("ladder", "alternate"):
            step = (2 if internal == 0 else -1) if behavior == "ladder" else (1 if internal == 0 else -1)
            seed += step
            internal = 1 if internal == 0 else 0
    return seeds


def test_iter() -> None:
    assert seed_sequence("iter", 10, 5) == (10, 11, 12, 13, 14)
    assert seed_sequence("iter", 10, 8, iter_n=3) == (10, 11, 11, 11, 12, 12, 12, 13)


def test_ladder_alternate_fixed() -> None:
    assert seed_sequence("ladder", 10, 6) == (10, 12, 11, 13, 12, 14)
    assert seed_sequence("alternate", 10, 5) == (10, 11, 10, 11, 10)
    assert seed_sequence("fixed", 10, 3) == (10, 10, 10)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["iter", "ladder", "alternate", "fixed"]), st.integers(0, 2**32 - 1), st.integers(0, 40),
       st.integers(1, 6))
def test_sequences_match_the_original_stateful_loop(behavior: str, seed: int, count: int, iter_n: int) -> None:
    assert list(seed_sequence(behavior, seed, count, iter_n=iter_n)) == stateful_reference(behavior, seed, count,
                                                                                            iter_n)


def test_generation_zero_uses_the_base_seed_for_every_behaviour_but_schedule() -> None:
    for behavior in ("iter", "fixed", "random", "ladder", "alternate"):
        assert seed_for_generation(behavior, 99, 0) == 99


def test_random_is_reproducible_per_base_seed_and_generation() -> None:
    first = seed_sequence("random", 5, 20)
    assert first == seed_sequence("random", 5, 20)
    assert first[0] == 5 and len(set(first[1:])) == 19
    assert all(0 <= seed <= MAX_SEED for seed in first)
    assert seed_for_generation("random", 5, 7) == first[7]
    assert seed_sequence("random", 6, 20)[1:] != first[1:]
    assert seed_sequence("random", 5, 5, rng_seed=1)[1:] != first[1:5]


def test_schedule_reads_the_scheduled_value_truncated() -> None:
    assert seed_for_generation("schedule", 1, 0, scheduled_seed=4.7) == 4
    assert seed_for_generation("schedule", 1, 3, scheduled_seed=-2.5) == -2
    assert seed_sequence("schedule", 1, 3, scheduled_seeds=[7.0, 8.0, 9.0]) == (7, 8, 9)


def test_schedule_minus_one_is_a_reproducible_random_seed() -> None:
    seed = seed_for_generation("schedule", 1, 4, scheduled_seed=-1.0)
    assert seed == seed_for_generation("schedule", 1, 4, scheduled_seed=-1.0) and 0 <= seed <= MAX_SEED


def test_schedule_needs_scheduled_values() -> None:
    with pytest.raises(ValueError, match="scheduled_seed"):
        seed_for_generation("schedule", 1, 0)
    with pytest.raises(ValueError, match="3 scheduled seeds"):
        seed_sequence("schedule", 1, 3, scheduled_seeds=[1.0])


@pytest.mark.parametrize(("behavior", "index", "iter_n"), [("bogus", 0, 1), ("iter", -1, 1), ("iter", 1, 0)])
def test_bad_arguments(behavior: str, index: int, iter_n: int) -> None:
    with pytest.raises(ValueError):
        seed_for_generation(behavior, 1, index, iter_n=iter_n)


def test_resolve_seed() -> None:
    assert resolve_seed(1234) == 1234
    assert resolve_seed(-1, random.Random(3)) == resolve_seed(-1, random.Random(3))
    assert all(0 <= resolve_seed(-1) <= MAX_SEED for _ in range(50))


def test_behaviours_are_the_originals_choices() -> None:
    assert SEED_BEHAVIORS == ("iter", "fixed", "random", "ladder", "alternate", "schedule")
