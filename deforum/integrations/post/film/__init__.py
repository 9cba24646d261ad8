"""FILM frame interpolation through the ``film_net`` TorchScript file the original extension used."""

from deforum.integrations.post.film.model import FILM_WEIGHTS, FilmInterpolator, FilmStep, film_plan, load_film

__all__ = ["FILM_WEIGHTS", "FilmInterpolator", "FilmStep", "film_plan", "load_film"]
