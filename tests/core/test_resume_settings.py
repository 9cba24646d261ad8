"""Issue 20 item 9: a resume whose settings would change the frames already rendered is refused, naming the keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from deforum.cli import main
from deforum.core.resume import RESUME_SAFE_KEYS, changed_render_keys
from tests.conftest import DATA

DEFAULTS = DATA / "compat/original/default_settings.txt"
COMMON = ["--preview", "--set", "W=64", "--set", "H=64", "--set", "max_frames=6", "--set", "seed=5",
          "--set", "batch_name=r", "--set", "skip_video_creation=true", "--set", "animation_mode=2D"]


@pytest.fixture
def interrupted(tmp_path: Path) -> tuple[Path, str]:
    """A finished 6-frame run with its last two frames removed, as an interruption leaves it."""
    assert main(["render", str(DEFAULTS), "--outdir", str(tmp_path), *COMMON]) == 0
    outdir = tmp_path / "r"
    timestring = next(outdir.glob("*_settings.txt")).name.split("_")[0]
    for frame in (4, 5):
        (outdir / f"{timestring}_{frame:09}.png").unlink()
    return outdir, timestring


@pytest.mark.parametrize(("change", "key"), [("diffusion_cadence=5", "diffusion_cadence"), ("W=128", "W"),
                                             ("seed=6", "seed"), ("max_frames=60", "max_frames"),
                                             ("strength_schedule=0: (0.1)", "strength_schedule")])
def test_changed_render_settings_are_refused_and_nothing_is_rewritten(
        interrupted: tuple[Path, str], change: str, key: str, capsys: pytest.CaptureFixture) -> None:
    outdir, timestring = interrupted
    settings_file = outdir / f"{timestring}_settings.txt"
    before = settings_file.read_bytes()
    capsys.readouterr()
    code = main(["render", str(DEFAULTS), "--outdir", str(outdir.parent), *COMMON, "--set", change,
                 "--resume", timestring])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{key} (" in err and "would change the frames already rendered" in err
    assert settings_file.read_bytes() == before
    assert len(list(outdir.glob(f"{timestring}_0*.png"))) == 4


def test_video_options_may_change_on_resume(interrupted: tuple[Path, str]) -> None:
    outdir, timestring = interrupted
    assert main(["render", str(DEFAULTS), "--outdir", str(outdir.parent), *COMMON, "--set", "fps=30",
                 "--set", "make_gif=true", "--resume", timestring]) == 0
    assert len(list(outdir.glob(f"{timestring}_0*.png"))) == 6


def test_changed_keys_ignore_only_the_safe_ones() -> None:
    saved = {"W": 64, "fps": 15, "zoom": "0: (1)", "resume_timestring": "1"}
    current = {"W": 64, "fps": 30, "zoom": "0: (1.1)", "resume_timestring": "2", "new_key": 1}
    assert changed_render_keys(saved, current) == ["new_key", "zoom"]
    assert {"fps", "make_gif", "resume_timestring"} <= RESUME_SAFE_KEYS
    assert not {"W", "H", "seed", "max_frames", "diffusion_cadence", "strength_schedule"} & RESUME_SAFE_KEYS
