"""The music variables of one render: fps and bpm from the settings, audio features when a schedule uses them."""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType

from deforum.animation.keys import numeric_schedule_keys
from deforum.animation.variables import AUDIO_NAMES, ScheduleVariables
from deforum.media.audio import AudioError, analyse_file
from deforum.media.video import resolve_soundtrack
from deforum.models.settings import Settings

_BACKTICKS = re.compile(r"`(.*?)`")
_AUDIO_WORD = re.compile(r"\b(" + "|".join(sorted(AUDIO_NAMES)) + r")\b")


def audio_source(settings: Settings) -> str | None:
    """The file the audio features come from: `audio_path`, else the soundtrack when one is added."""
    out = settings.output
    explicit = (out.audio_path or "").strip().strip('"')
    if explicit:
        return explicit
    return resolve_soundtrack(out.add_soundtrack, out.soundtrack_path, settings.anim.video_init_path)


def uses_audio(settings: Settings) -> bool:
    """Whether a numeric schedule or a prompt's backtick maths names an audio feature (amp, onset, bass, …)."""
    flat = settings.to_flat()
    texts = [str(flat[key]) for key in numeric_schedule_keys(flat)]
    prompts = [*settings.prompts.values(), settings.animation_prompts_positive, settings.animation_prompts_negative]
    texts += [maths for prompt in prompts for maths in _BACKTICKS.findall(str(prompt))]
    return any(_AUDIO_WORD.search(text) for text in texts)


def schedule_variables(settings: Settings, *, cache_dir: Path | None = None) -> ScheduleVariables:
    """fps, bpm and (only when a schedule uses them) the audio features of the render's audio file."""
    out = settings.output
    if not uses_audio(settings):
        return ScheduleVariables(fps=float(out.fps), bpm=float(out.bpm))
    source = audio_source(settings)
    if source is None:
        raise AudioError("A schedule or prompt uses an audio variable (amp, onset, bass, mid, treble), but there is "
                         "no audio. Fix: set 'audio_path' to an audio file, or add a soundtrack (add_soundtrack).")
    analysis = analyse_file(source, float(out.fps), cache_dir=cache_dir)
    return ScheduleVariables(fps=float(out.fps), bpm=float(out.bpm),
                             features=MappingProxyType(dict(analysis.features)))
