"""Wan clip planning, pure and printable: prompt keyframes → clips of 4n+1 generated frames with seeds and words."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deforum.animation.keys import AnimationKeys, build_keys
from deforum.animation.movement import describe_motion
from deforum.animation.seeds import seed_for_generation
from deforum.core.guided import parse_guided_images
from deforum.core.music import schedule_variables
from deforum.models.settings import Settings, SettingsError
from deforum.prompt.schedule import build_prompt_schedule, checked_prompts, merge_shared_prompts, prompt_keyframes

NO_CONTINUITY = "Use T2V Model (No Continuity)"
MIN_FRAMES = 5
MAX_CLIP_FRAMES = 81
SIZE_MULTIPLE = 16
RESOLUTION = re.compile(r"^\s*(\d+)\s*[x×]\s*(\d+)\s*(\(.*\))?\s*$", re.IGNORECASE)
WAN_EXTRA_DEFAULTS: Mapping[str, Any] = {
    "wan_enhanced_prompts": "", "wan_movement_description": "", "wan_movement_sensitivity": 1.0,
    "wan_motion_strength_override": False, "wan_qwen_model": "Auto-Select",
}


@dataclass(frozen=True)
class WanClip:
    """One Wan generation: which frames it fills, how it is made, and with what."""

    index: int
    keyframe: int
    part: int
    parts: int
    start: int
    length: int
    num_frames: int
    mode: str
    source: str
    prompt: str
    negative: str
    seed: int
    guidance_scale: float
    strength: float
    motion: str
    motion_intensity: float
    overlap: int = 0
    last_image: str = ""

    @property
    def skip(self) -> int:
        """Generated frames dropped at the start: a chained clip remakes the `overlap` frames it continues from."""
        return self.overlap

    @property
    def end(self) -> int:
        """The frame after the clip's last written frame."""
        return self.start + self.length


@dataclass(frozen=True)
class WanPlan:
    """Every clip of a Wan run plus the run-wide values (size after rounding, steps, fps, continuity)."""

    width: int
    height: int
    fps: float
    steps: int
    continuity: bool
    prompt_source: str
    max_frames: int
    clips: tuple[WanClip, ...]
    notes: tuple[str, ...] = ()


def wan_setting(settings: Settings, key: str) -> Any:
    """A Forge-fork `wan_*` setting: from the validated settings, else from the file's extra keys, else its default."""
    if hasattr(settings.forge, key):
        return getattr(settings.forge, key)
    return settings.extras.get(key, WAN_EXTRA_DEFAULTS.get(key))


def _positive(settings: Settings, key: str) -> float:
    """A wan_* number that must be above 0 (fork keys arrive unvalidated from the file's extra keys)."""
    value = wan_setting(settings, key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise SettingsError([f"Setting '{key}': {value!r} is not a number above 0."])
    return float(value)


def frames_4n1(count: int) -> int:
    """The smallest frame count of the form 4n+1 that is at least `count` and at least 5."""
    return MIN_FRAMES + 4 * max(0, math.ceil((count - MIN_FRAMES) / 4))


def parse_resolution(text: str) -> tuple[int, int]:
    """(width, height) from wan_resolution text like '864x480' or '864x480 (Landscape)'."""
    match = RESOLUTION.match(str(text))
    if not match or int(match.group(1)) <= 0 or int(match.group(2)) <= 0:
        raise SettingsError([f"Setting 'wan_resolution': {text!r} is not a size; write WIDTHxHEIGHT, e.g. "
                             "'864x480' or '1280x720 (Landscape)'."])
    return int(match.group(1)), int(match.group(2))


def model_size(width: int, height: int) -> tuple[int, int]:
    """The size rounded to the nearest multiples of 16 (the Wan VAE's 8× down-sampling times the 2×2 patches)."""
    return tuple(max(SIZE_MULTIPLE, SIZE_MULTIPLE * round(v / SIZE_MULTIPLE)) for v in (width, height))


def split_lengths(length: int, max_length: int) -> list[int]:
    """`length` frames cut into the fewest near-equal parts of at most `max_length` frames."""
    parts = max(1, math.ceil(length / max_length))
    base, extra = divmod(length, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def prompt_source(settings: Settings) -> tuple[str, dict[str, str]]:
    """The prompts clips are made from: wan_enhanced_prompts (JSON) if set, else wan_prompts, else prompts."""
    enhanced = wan_setting(settings, "wan_enhanced_prompts")
    if isinstance(enhanced, str) and enhanced.strip():
        try:
            enhanced = json.loads(enhanced)
        except json.JSONDecodeError as err:
            raise SettingsError([f"Setting 'wan_enhanced_prompts': not valid JSON ({err.msg}); write "
                                 '{"0": "a prompt", "60": "another"} or clear it.']) from None
    if isinstance(enhanced, Mapping) and enhanced:
        return "wan_enhanced_prompts", checked_prompts(enhanced)
    wan_prompts = settings.forge.wan_prompts
    if wan_prompts:
        return "wan_prompts", checked_prompts(wan_prompts)
    return "prompts", dict(settings.prompts)


def keyframe_starts(prompts: Mapping[str, str], max_frames: int, seed: int) -> list[int]:
    """Frames where a clip starts: 0, then every prompt keyframe inside the render."""
    frames = {frame for frame, _, _ in prompt_keyframes(prompts, max_frames - 1, seed) if 0 < frame < max_frames}
    return [0, *sorted(frames)]


def clip_spans(starts: list[int], max_frames: int, max_clip_frames: int,
               overlap: int = 1) -> list[tuple[int, int, int, int, int]]:
    """(keyframe, part, parts, start, length) of every clip; a long prompt span is cut into chained parts."""
    spans = []
    for position, keyframe in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else max_frames
        lengths = split_lengths(end - keyframe, max_clip_frames - overlap)
        offset = keyframe
        for part, length in enumerate(lengths, start=1):
            spans.append((keyframe, part, len(lengths), offset, length))
            offset += length
    return spans


def clip_seed(settings: Settings, base_seed: int, index: int, start: int, keys: AnimationKeys) -> int:
    """Clip `index`'s seed under the seed behaviour (one clip = one generation)."""
    a = settings.args
    scheduled = keys.value("seed_schedule", start) if a.seed_behavior == "schedule" else None
    return seed_for_generation(a.seed_behavior, base_seed, index, iter_n=a.seed_iter_N, scheduled_seed=scheduled)


def _guidance_and_strength(settings: Settings, keys: AnimationKeys, start: int) -> tuple[float, float]:
    """Guidance (wan_guidance_scale, or cfg_scale_schedule) and strength (wan_fixed_strength, or strength_schedule)."""
    forge = settings.forge
    guidance = forge.wan_guidance_scale if forge.wan_guidance_override else keys.value("cfg_scale_schedule", start)
    strength = forge.wan_fixed_strength if forge.wan_strength_override else keys.value("strength_schedule", start)
    return float(guidance), float(strength)


def _motion(settings: Settings, keys: AnimationKeys, start: int, end: int) -> tuple[str, float]:
    """The clip's motion phrase (empty when wan_motion_strength is 0) and its motion intensity."""
    strength = float(settings.forge.wan_motion_strength)
    sensitivity = _positive(settings, "wan_movement_sensitivity")
    summary = describe_motion(keys.series, start, end, sensitivity=sensitivity)
    intensity = strength if wan_setting(settings, "wan_motion_strength_override") else strength * summary.intensity
    written = str(wan_setting(settings, "wan_movement_description") or "").strip().splitlines()
    phrase = (written[0].strip() if written else summary.phrase) if strength > 0 else ""
    return phrase, intensity


def chain_overlap(settings: Settings) -> int:
    """Frames a chained clip continues from and remakes: wan_frame_overlap, at least the one frame it starts at."""
    return max(1, int(settings.forge.wan_frame_overlap))


def keyframe_images(settings: Settings) -> dict[int, str]:
    """Guided images (use_looper's init_images) by frame: the last frames first-last-frame clips aim at."""
    if not settings.loop.use_looper:
        return {}
    guided = parse_guided_images(settings.loop.init_images, settings.anim.max_frames)
    return dict(zip(guided.swap_frames, guided.sources, strict=True))


def last_frame_image(images: Mapping[int, str], end: int) -> str:
    """The image a clip ending before frame `end` aims at: the one at its last frame, else the next keyframe's."""
    return images.get(end - 1) or images.get(end, "")


def base_seed(settings: Settings, run_seed: int) -> int:
    """wan_seed, or the run's seed when wan_seed is -1."""
    return run_seed if settings.forge.wan_seed == -1 else int(settings.forge.wan_seed)


def _clip_mode(settings: Settings, index: int, continuity: bool) -> tuple[str, str]:
    """('t2v', 'text'), ('i2v', 'previous') or, for clip 0 with an init image, ('i2v', 'init')."""
    if not continuity:
        return "t2v", "text"
    if index > 0:
        return "i2v", "previous"
    a = settings.args
    return ("i2v", "init") if a.use_init and str(a.init_image or "").strip() else ("t2v", "text")


def plan_clips(settings: Settings, run_seed: int, *, keys: AnimationKeys | None = None,
               max_clip_frames: int = MAX_CLIP_FRAMES) -> WanPlan:
    """Plan every clip of a Wan run from the prompt keyframes, seed behaviour, schedules and wan_* settings."""
    if max_clip_frames < MIN_FRAMES or (max_clip_frames - 1) % 4:
        raise ValueError(f"max_clip_frames must be 4n+1 and at least {MIN_FRAMES}, got {max_clip_frames}")
    anim, seed = settings.anim, base_seed(settings, run_seed)
    variables = schedule_variables(settings)
    keys = keys or build_keys(settings.to_flat(), anim.max_frames, seed, variables)
    source, prompts = prompt_source(settings)
    merged = merge_shared_prompts(prompts, settings.animation_prompts_positive, settings.animation_prompts_negative)
    per_frame = build_prompt_schedule(prompts, anim.max_frames, positive=settings.animation_prompts_positive,
                                      negative=settings.animation_prompts_negative, seed=seed, variables=variables)
    continuity = settings.forge.wan_i2v_model != NO_CONTINUITY
    overlap, images = chain_overlap(settings), keyframe_images(settings) if continuity else {}
    clips = []
    for index, (keyframe, part, parts, start, length) in enumerate(clip_spans(
            keyframe_starts(merged, anim.max_frames, seed), anim.max_frames, max_clip_frames, overlap)):
        mode, origin = _clip_mode(settings, index, continuity)
        positive, negative = per_frame[start]
        phrase, intensity = _motion(settings, keys, start, start + length)
        guidance, strength = _guidance_and_strength(settings, keys, start)
        skip = overlap if origin == "previous" else 0
        last = last_frame_image(images, start + length) if mode == "i2v" else ""
        clips.append(WanClip(index, keyframe, part, parts, start, length, frames_4n1(length + skip), mode, origin,
                             ". ".join(text for text in (positive, phrase) if text), negative,
                             clip_seed(settings, seed, index, start, keys), guidance, strength, phrase, intensity,
                             skip, last))
    width, height = parse_resolution(settings.forge.wan_resolution)
    size = model_size(width, height)
    notes = _notes((width, height), size, clips, continuity)
    return WanPlan(size[0], size[1], float(settings.output.fps), int(settings.forge.wan_inference_steps), continuity,
                   source, anim.max_frames, tuple(clips), notes)


def _notes(asked: tuple[int, int], size: tuple[int, int], clips: list[WanClip], continuity: bool) -> tuple[str, ...]:
    """Plain-language notes on what the plan changed (size rounding, long prompt spans cut into parts)."""
    notes = []
    if asked != size:
        notes.append(f"wan_resolution {asked[0]}x{asked[1]} rounded to {size[0]}x{size[1]} (multiples of 16).")
    for clip in clips:
        if clip.part == 1 and clip.parts > 1:
            how = "chained" if continuity else "independent"
            notes.append(f"The prompt at frame {clip.keyframe} spans more than one Wan clip can hold; it is made "
                         f"as {clip.parts} {how} clips.")
    return tuple(notes)


def format_plan(plan: WanPlan) -> str:
    """The plan as text: one line per clip, then the notes."""
    head = (f"Wan plan: {len(plan.clips)} clip(s), {plan.max_frames} frames at {plan.fps:g} fps, "
            f"{plan.width}x{plan.height}, {plan.steps} steps, prompts from {plan.prompt_source}, "
            f"continuity {'on' if plan.continuity else 'off'}")
    lines = [head]
    for c in plan.clips:
        part = f" part {c.part}/{c.parts}" if c.parts > 1 else ""
        ends = f", last frame {c.last_image!r}" if c.last_image else ""
        over = f" ({c.overlap} overlap)" if c.overlap else ""
        lines.append(f"clip {c.index}: frames {c.start}-{c.end - 1} ({c.length} written of {c.num_frames} made), "
                     f"{c.mode} from {c.source}{over}{part}{ends}, seed {c.seed}, guidance {c.guidance_scale:g}, "
                     f"strength {c.strength:g}, motion {c.motion_intensity:.2f}: {c.prompt!r}"
                     + (f" --neg {c.negative!r}" if c.negative else ""))
    lines.extend(f"note: {note}" for note in plan.notes)
    return "\n".join(lines)
