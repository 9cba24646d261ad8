"""FILM: the TorchScript loader, the recursive midpoint order, frame counts, padding and crop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deforum.config.weights import ModelWeightsMissing
from deforum.integrations.post.film import FilmInterpolator, film_plan, load_film
from deforum.integrations.post.film.model import last_uses
from deforum.integrations.post.interpolation import film_inbetweens, interpolated_count
from tests.integrations.post.test_postprocess_support import TinyFilm, models, moving_square, save_film  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")


def tiny() -> FilmInterpolator:
    """The cross-fade stand-in for film_net, scripted like the real file."""
    return FilmInterpolator(torch.jit.script(TinyFilm()).eval(), device=torch.device("cpu"), dtype=torch.float32)


def test_plan_fills_midpoints_first() -> None:
    assert [(s.target, s.left, s.right) for s in film_plan(1)] == [(1, 0, 2)]
    assert [(s.target, s.left, s.right) for s in film_plan(3)] == [(2, 0, 4), (1, 0, 2), (3, 2, 4)]
    assert [s.dt for s in film_plan(3)] == pytest.approx([0.5, 0.5, 0.5])


@pytest.mark.parametrize("count", [1, 2, 5, 8, 31])
def test_plan_makes_every_frame_once_from_known_neighbours(count: int) -> None:
    known, times = {0, count + 1}, np.linspace(0, 1, count + 2)
    for step in film_plan(count):
        assert step.left in known and step.right in known and step.left < step.target < step.right
        assert not any(step.left < k < step.right for k in known)
        span = times[step.right] - times[step.left]
        assert step.dt == pytest.approx((times[step.target] - times[step.left]) / span, abs=1e-6)
        known.add(step.target)
    assert known == set(range(count + 2))


def test_last_uses_lets_frames_go_once_no_later_step_reads_them() -> None:
    steps = film_plan(7)
    last = last_uses(steps)
    for index, final in last.items():
        assert all(index not in (s.left, s.right) for s in steps[final + 1:])


def test_frame_counts_follow_the_original_formula() -> None:
    assert film_inbetweens(10, 2) == 1 and interpolated_count(10, 1) == 19
    assert film_inbetweens(3, 2) == 2 and interpolated_count(3, 2) == 7
    assert film_inbetweens(5, 4) == 4 and film_inbetweens(2, 300) == 598
    assert film_inbetweens(1, 4) == 0


def test_cross_fade_model_gives_an_even_ramp_in_time_order() -> None:
    a, b = np.full((40, 70, 3), 0, np.uint8), np.full((40, 70, 3), 200, np.uint8)
    out = dict(tiny().between(a, b, 3))
    assert sorted(out) == [1, 2, 3]
    for k, frame in out.items():
        assert frame.shape == (40, 70, 3)
        assert np.abs(frame.astype(int) - 50 * k).max() <= 1


def test_crop_undoes_the_centred_padding() -> None:
    a, b = moving_square(0)[:40, :70], moving_square(0)[:40, :70]
    (_, mid), = tiny().between(a, b, 1)
    assert np.abs(mid.astype(int) - a).max() <= 1


def test_loads_the_torchscript_file_from_the_original_folder(models: Path) -> None:  # noqa: F811
    save_film(models / "Deforum" / "film_interpolation" / "film_net_fp16.pt")
    film = load_film(models_dir=str(models), device="cpu")
    assert film.dtype == torch.float32 and film.inbetweens(3, 2) == 2
    frames = film.interpolate([moving_square(0), moving_square(2)], 2)
    assert len(frames) == 4


def test_missing_weights_name_the_file_and_folder(models: Path) -> None:  # noqa: F811
    with pytest.raises(ModelWeightsMissing) as caught:
        load_film(models_dir=str(models), device="cpu")
    message = str(caught.value)
    assert "film_net_fp16.pt" in message and str(models / "Deforum" / "film_interpolation") in message
