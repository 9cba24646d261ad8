"""Fuzzing: mutated settings files, schedules, prompts and mask expressions never crash or run code.

The budget is small in the normal suite; `make fuzz` raises it (FUZZ_EXAMPLES) for a longer run.
"""

from __future__ import annotations

import json
import os
import random
import string
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deforum.animation.schedules import ScheduleError, evaluate_schedule, evaluate_string_schedule
from deforum.config.settings_io import load
from deforum.core.mask_compose import compose_mask
from deforum.models.settings import FIELD_SPECS, SettingsError
from deforum.prompt.mask_expressions import MaskExpressionError
from deforum.prompt.schedule import PromptError, build_prompt_schedule
from tests.conftest import compat_settings_files

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLEAR_ERRORS = (SettingsError, ScheduleError, PromptError, MaskExpressionError)
HOSTILE = [
    "__import__('os').system('touch /tmp/deforum_pwned')", "().__class__.__bases__[0].__subclasses__()",
    "lambda: 1", "9**9**9**9", "(" * 500 + "1" + ")" * 500, "x" * 1_000_000, "nan", "inf", "-inf", "1e309",
    "open('/etc/passwd').read()", "t.__class__", "[t for t in ()]", "exec('1')", "\u202e\u0000\ud800",
    "{__import__}", "sin(t)" * 20_000, "where(t, 1)", "'" * 3, "0:(1), 5:(", ":", ",,,",
]
COMPAT = [json.loads(p.read_text()) for p in compat_settings_files()]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=True),
                    st.text(max_size=40), st.sampled_from(HOSTILE))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8), inner, max_size=3), max_leaves=6)


def _no_side_effects() -> None:
    """None of the hostile strings may have created a file."""
    assert not Path("/tmp/deforum_pwned").exists()


@FUZZ
@given(base=st.sampled_from(COMPAT), data=st.data())
def test_mutated_compat_files_load_or_fail_clearly(base: dict, data: st.DataObject) -> None:
    mutated = dict(base)
    keys = data.draw(st.lists(st.sampled_from(sorted(set(base) | set(FIELD_SPECS))), max_size=6))
    for key in keys:
        if data.draw(st.booleans()):
            mutated[key] = data.draw(VALUES)
        else:
            mutated.pop(key, None)
    try:
        load(mutated)
    except CLEAR_ERRORS as err:
        assert str(err) and "Traceback" not in str(err)
    _no_side_effects()


@FUZZ
@given(text=st.one_of(st.text(max_size=200), st.sampled_from(HOSTILE)), frames=st.integers(1, 50),
       seed=st.integers(-1, 2**32 - 1))
def test_schedules_evaluate_or_fail_clearly(text: str, frames: int, seed: int) -> None:
    for evaluate in (lambda: evaluate_schedule(text, frames, seed=seed, name="fuzz"),
                     lambda: evaluate_string_schedule(text, frames, name="fuzz")):
        try:
            evaluate()
        except ScheduleError as err:
            assert "fuzz" in str(err)
    _no_side_effects()


@FUZZ
@given(prompts=st.dictionaries(st.one_of(st.text(max_size=12), st.sampled_from(HOSTILE[:12])),
                               st.one_of(st.text(max_size=60), st.sampled_from(["a `t*2` b", "`__import__`"])),
                               max_size=4),
       frames=st.integers(1, 30))
def test_prompts_build_or_fail_clearly(prompts: dict, frames: int) -> None:
    try:
        schedule = build_prompt_schedule(prompts, frames)
        assert len(schedule) == frames
    except (PromptError, ValueError) as err:
        assert str(err)
    _no_side_effects()


MASK_ALPHABET = string.ascii_letters + "{}[]<>()!&|^\\ _" + "".join(HOSTILE[0][:10])


@FUZZ
@given(expression=st.one_of(st.text(alphabet=MASK_ALPHABET, max_size=80), st.sampled_from(HOSTILE)))
def test_mask_expressions_compose_or_fail_clearly(expression: str) -> None:
    import numpy as np

    named = {"video_mask": np.full((8, 8), 255, np.uint8), "init_mask": None}
    try:
        mask = compose_mask(expression, named, (8, 8))
        assert mask.shape == (8, 8)
    except MaskExpressionError as err:
        assert "character" in str(err)
    _no_side_effects()


def test_cli_never_prints_a_traceback_for_random_files(tmp_path: Path) -> None:
    import subprocess

    rng = random.Random(7)
    for index in range(8):
        base = dict(rng.choice(COMPAT))
        for key in rng.sample(sorted(base), 5):
            base[key] = rng.choice(HOSTILE[:10] + [None, -1, [1], {"a": 1}])
        path = tmp_path / f"f{index}.txt"
        path.write_text(json.dumps(base))
        done = subprocess.run([sys.executable, "-m", "deforum", "settings", "check", str(path)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 2) and "Traceback" not in done.stderr
    _no_side_effects()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_schedule_strings_give_finite_values_or_clear_errors(text: str) -> None:
    import numpy as np

    try:
        values = evaluate_schedule(f"0: ({text})", 5, name="angle")
    except ScheduleError as err:
        assert "Schedule 'angle'" in str(err)
    else:
        assert np.isfinite(values).all()
    _no_side_effects()


@pytest.mark.parametrize("text", [HOSTILE[0], HOSTILE[1], HOSTILE[2], HOSTILE[3], HOSTILE[10], HOSTILE[11],
                                  HOSTILE[12], HOSTILE[13], "nan", "inf", "1e309"])
def test_code_and_non_finite_values_are_refused(text: str) -> None:
    with pytest.raises(ScheduleError, match="Schedule 'angle'"):
        evaluate_schedule(f"0: ({text})", 5, name="angle")
