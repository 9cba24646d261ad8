"""The interpolation engines by name: RIFE v4.6 or FILM from local weights (above the engine-neutral driver)."""

from __future__ import annotations

from deforum.integrations.post.interpolation import PairInterpolatorBase, engine_tag

__all__ = ["load_interpolator"]


def load_interpolator(engine: str, *, models_dir: str | None = None, device: str | None = None,
                      half: bool | None = None) -> PairInterpolatorBase:
    """The RIFE v4.6 or FILM interpolator from local weights (ModelWeightsMissing when absent)."""
    tag = engine_tag(engine)
    if tag == "RIFE":
        from deforum.integrations.post.rife import load_rife

        return load_rife(models_dir=models_dir, device=device, half=half)
    from deforum.integrations.post.film import load_film

    return load_film(models_dir=models_dir, device=device, half=half)
