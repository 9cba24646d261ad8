"""Resume an interrupted run: from our checkpoint (exact), or from the frames alone as the original did."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from deforum.core.plan import FramePlan, plan_frames
from deforum.core.sink import DiskFrameSink
from deforum.core.state import FrameState
from deforum.media.frames_io import existing_frames, frame_filename, read_image


class ResumeError(ValueError):
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
