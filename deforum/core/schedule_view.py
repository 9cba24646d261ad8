"""Schedules as plottable curves: every varying schedule of a settings file, or one schedule text, with cadence."""

from __future__ import annotations

import numpy as np

from deforum.animation.keys import build_keys
from deforum.animation.schedules import evaluate_schedule, parse_schedule, resolve_keyframes
from deforum.animation.variables import NO_MUSIC, ScheduleVariables
from deforum.core.music import schedule_variables
from deforum.core.plan import effective_cadence, plan_frames
from deforum.media.audio import AudioAnalysis
from deforum.media.plots import Curve, PlotImage, draw_curves
from deforum.models.settings import Settings


def tween_mask(max_frames: int, cadence: int) -> np.ndarray:
    """True on frames that cadence tweens instead of diffusing (shape (max_frames,))."""
    mask = np.ones(max_frames, dtype=bool)
    mask[list(plan_frames(max_frames, max(1, cadence)).diffused_frames)] = False
    return mask


def keyframe_frames(text: str, max_frames: int, seed: int, name: str) -> tuple[int, ...]:
    """Frames of a schedule's keyframes inside the render."""
    return tuple(frame for frame, _ in resolve_keyframes(parse_schedule(text, name), max_frames, seed=seed, name=name))


def schedule_curve(text: str, max_frames: int, *, seed: int = -1, name: str = "schedule",
                   variables: ScheduleVariables = NO_MUSIC) -> Curve:
    """One schedule text as a curve with its keyframes marked (ScheduleError when invalid)."""
    values = evaluate_schedule(text, max_frames, seed=seed, name=name, variables=variables)
    return Curve(name=name, values=values, marks=keyframe_frames(text, max_frames, seed, name))


def varying_curves(settings: Settings) -> list[Curve]:
    """Every numeric schedule of the settings whose value changes over the frames, keyframes marked."""
    anim, seed = settings.anim, settings.args.seed
    keys = build_keys(settings.to_flat(), anim.max_frames, seed, schedule_variables(settings))
    curves = []
    for name, values in keys.series.items():
        if values.size and np.ptp(values) > 0:
            marks = keyframe_frames(str(settings[name]), anim.max_frames, seed, name)
            curves.append(Curve(name=name, values=values, marks=marks))
    return curves


def settings_plot(settings: Settings) -> PlotImage:
    """Each varying schedule of a settings file over its frames, keyframes marked, cadence frames shaded."""
    anim = settings.anim
    cadence = effective_cadence(anim.animation_mode, anim.diffusion_cadence)
    title = f"{anim.max_frames} frames, cadence {cadence} (shaded: tween frames), dots: keyframes"
    return draw_curves(varying_curves(settings), tweens=tween_mask(anim.max_frames, cadence), title=title)


def schedule_plot(text: str, max_frames: int, *, seed: int = -1, cadence: int = 1, name: str = "schedule",
                  variables: ScheduleVariables = NO_MUSIC) -> PlotImage:
    """One schedule over `max_frames` frames, keyframes marked, tween frames of `cadence` shaded."""
    curve = schedule_curve(text, max_frames, seed=seed, name=name, variables=variables)
    return draw_curves([curve], tweens=tween_mask(max_frames, cadence) if cadence > 1 else None,
                       title=f"{name}: {max_frames} frames" + (f", cadence {cadence}" if cadence > 1 else ""))


def audio_plot(analysis: AudioAnalysis, features: tuple[str, ...] = ("amp", "onset", "bass", "mid", "treble"),
               mapped: np.ndarray | None = None) -> PlotImage:
    """The audio features per frame with the beat frames marked (and the mapped schedule when given)."""
    note = f"tempo {analysis.tempo:.1f} BPM, {len(analysis.beat_frames)} beats (dots)"
    curves = [Curve(name=name, values=analysis.features[name], marks=analysis.beat_frames,
                    note=note if index == 0 else "") for index, name in enumerate(features)]
    if mapped is not None:
        curves.append(Curve(name="schedule", values=mapped))
    title = f"{analysis.duration:.1f} s at {analysis.fps:g} fps = {analysis.frame_count} frames"
    return draw_curves(curves, title=title)
