"""Resume an interrupted run: from our checkpoint (exact), or from the frames alone as the original did."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from deforum.core.plan import FramePlan, plan_frames
from deforum.core.sink import DiskFrameSink
from deforum.core.state import FrameState
from deforum.media.frames_io import existing_frames, frame_filename, read_image
from deforum.models.errors import DeforumError


class ResumeError(DeforumError, ValueError):
    """A run cannot be resumed (missing folder, too few frames)."""


@dataclass(frozen=True)
class ResumePoint:
    """Where a resumed render starts: the plan to follow and the state to start from."""

    plan: FramePlan
    state: FrameState
    exact: bool


def saved_seed(outdir: Path, timestring: str) -> int | None:
    """The resolved seed recorded in the run's `<timestring>_settings.txt`, if any."""
    path = outdir / f"{timestring}_settings.txt"
    try:
        seed = json.loads(path.read_text(encoding="utf-8")).get("seed")
    except (OSError, ValueError):
        return None
    return seed if isinstance(seed, int) and seed >= 0 else None


def resume_point(sink: DiskFrameSink, plan: FramePlan) -> ResumePoint:
    """Continue from the last checkpoint, else from the frames on disk (the original's method)."""
    state = sink.load_state()
    if state is not None:
        return ResumePoint(plan, state, exact=True)
    return _resume_from_frames(sink, plan)


def _resume_distributed(sink: DiskFrameSink, plan: FramePlan) -> ResumePoint:
    """Keyframe distribution without a checkpoint: continue after the last diffused frame on disk (as the fork)."""
    count = len(existing_frames(sink.outdir, sink.timestring))
    done = [i for i, seg in enumerate(plan.segments) if seg.key_frame is not None and seg.key_frame < count]
    if not done:
        raise ResumeError(f"Cannot resume {sink.timestring} in {sink.outdir}: found {count} frame(s), none of them a "
                          "diffused frame of the plan. Start a new render instead.")
    last = plan.segments[done[-1]].key_frame
    image = read_image(sink.outdir / frame_filename(sink.timestring, last))
    state = FrameState(prev_img=image, generation=len(done), init_used=True, next_segment=done[-1] + 1)
    return ResumePoint(plan, state, exact=False)


def _resume_from_frames(sink: DiskFrameSink, plan: FramePlan) -> ResumePoint:
    """The original's resume: the last two diffused frames on disk become the cadence pair."""
    if plan.warp_tweens:
        return _resume_distributed(sink, plan)
    cadence = plan.cadence
    count = len(existing_frames(sink.outdir, sink.timestring))
    last = count - count % cadence
    prev_frame, next_frame = last - cadence, last - 1
    if prev_frame < 0 or next_frame < 0:
        raise ResumeError(f"Cannot resume {sink.timestring} in {sink.outdir}: found {count} frame(s); resuming needs "
                          f"at least {2 * cadence if cadence > 1 else 1}. Start a new render instead.")
    prev_img = read_image(sink.outdir / frame_filename(sink.timestring, prev_frame))
    next_img = read_image(sink.outdir / frame_filename(sink.timestring, next_frame))
    resumed = plan_frames(plan.max_frames, cadence, start_frame=last)
    generations = len(range(0, last, cadence))
    if cadence > 1:
        state = FrameState(prev_img=prev_img, turbo_prev_img=prev_img, turbo_prev_idx=prev_frame,
                           turbo_next_img=next_img, turbo_next_idx=next_frame, generation=generations, init_used=True)
    else:
        state = FrameState(prev_img=next_img, generation=generations, init_used=True)
    return ResumePoint(resumed, state, exact=False)


# Settings that only shape what is made from the frames (the video, post-processing) or where extra files go.
RESUME_SAFE_KEYS: frozenset[str] = frozenset({
    "skip_video_creation", "fps", "make_gif", "delete_imgs", "delete_input_frames", "add_soundtrack",
    "soundtrack_path", "r_upscale_video", "r_upscale_factor", "r_upscale_model", "r_upscale_keep_imgs",
    "store_frames_in_ram", "frame_interpolation_engine", "frame_interpolation_x_amount",
    "frame_interpolation_slow_mo_enabled", "frame_interpolation_slow_mo_amount", "frame_interpolation_keep_imgs",
    "frame_interpolation_use_upscaled", "resume_from_timestring", "resume_timestring", "show_info_on_ui",
    "save_depth_maps", "overwrite_extracted_frames", "hybrid_comp_save_extra_frames",
    *(f"cn_{n}_overwrite_frames" for n in range(1, 6)),
})


def changed_render_keys(saved: dict[str, object], current: dict[str, object]) -> list[str]:
    """The keys whose values differ between a run's saved flat settings and the resumed ones, video options aside."""
    keys = (set(saved) | set(current)) - RESUME_SAFE_KEYS
    return sorted(key for key in keys if saved.get(key) != current.get(key))


def check_resume_settings(settings_file: Path, current: dict[str, object], requested_seed: int) -> None:
    """Raise ResumeError naming every key that would change frames already rendered (the run's settings file rules)."""
    from deforum.config.settings_io import load
    from deforum.models.settings import SettingsError

    if not settings_file.is_file():
        return
    try:
        saved = load(settings_file).to_flat()
    except SettingsError:
        return
    changed = changed_render_keys(saved, current)
    if requested_seed != -1 and requested_seed != saved.get("seed"):
        changed = sorted({*changed, "seed"})
    if changed:
        shown = ", ".join(f"{key} ({_short(saved.get(key))} → {_short(current.get(key))})" for key in changed[:8])
        more = f" and {len(changed) - 8} more" if len(changed) > 8 else ""
        raise ResumeError(f"Cannot resume {settings_file.name.removesuffix('_settings.txt')}: these settings differ "
                          f"from the run's {settings_file.name} and would change the frames already rendered: "
                          f"{shown}{more}. Resume with the run's settings (video options such as fps may change), "
                          "or start a new render.")


def _short(value: object) -> str:
    """A value shortened for a message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
