"""FramePlan: which frames are diffused and which are cadence tweens, as printable data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deforum.core.distribution import DiffusedFrame, diffused_frames, shown_distribution
from deforum.models.modes import traits


@dataclass(frozen=True)
class Segment:
    """Tween frames emitted before diffusing `key_frame` (None for the final tail, which diffuses nothing)."""

    key_frame: int | None
    tween_frames: tuple[int, ...]
    tween_start: int
    denominator: int
    reasons: tuple[str, ...] = ()
    strength_key: str = "strength_schedule"

    def tween_value(self, frame: int) -> float:
        """The blend weight of the next diffused image at a tween frame, as the original computes it."""
        return (frame - self.tween_start + 1) / self.denominator


@dataclass(frozen=True)
class FramePlan:
    """The whole render as segments; every frame index in [start_frame, max_frames) is written exactly once."""

    max_frames: int
    cadence: int
    start_frame: int
    segments: tuple[Segment, ...]
    distribution: str = "Off"

    @property
    def warp_tweens(self) -> bool:
        """Keyframe distribution: tweens are the previous frame warped on (no blend), each diffused frame written."""
        return self.distribution != "Off"

    @property
    def blends_tweens(self) -> bool:
        """The original's cadence: tweens blend the two last diffused frames, which are not written themselves."""
        return self.cadence > 1 and not self.warp_tweens

    @property
    def diffused_frames(self) -> tuple[int, ...]:
        """Frames that go through the model service."""
        return tuple(s.key_frame for s in self.segments if s.key_frame is not None)

    def written_frames(self) -> tuple[int, ...]:
        """Frames saved, in the order the engine writes them."""
        frames: list[int] = []
        for segment in self.segments:
            frames.extend(segment.tween_frames)
            if not self.blends_tweens and segment.key_frame is not None:
                frames.append(segment.key_frame)
        return tuple(frames)

    def describe(self) -> str:
        """A human-readable listing of the plan."""
        if self.warp_tweens:
            return self._describe_distribution()
        lines = [f"{self.max_frames} frames, cadence {self.cadence}, from frame {self.start_frame}"]
        for segment in self.segments:
            tweens = ", ".join(f"{f}@{segment.tween_value(f):.2f}" for f in segment.tween_frames)
            key = "tail" if segment.key_frame is None else f"diffuse {segment.key_frame}"
            lines.append(f"  {key}" + (f" after tweens [{tweens}]" if tweens else ""))
        return "\n".join(lines)

    def _describe_distribution(self) -> str:
        """The keyframe-distribution listing: diffused frames with reasons and strength schedule, tween ranges."""
        diffused = self.diffused_frames
        lines = [f"{self.max_frames} frames, keyframe distribution {self.distribution!r}: {len(diffused)} diffused, "
                 f"{self.max_frames - len(diffused)} tweens (pseudo cadence {self.max_frames / len(diffused):.2f})",
                 f"  diffused frames: {', '.join(map(str, diffused))}"]
        for segment in self.segments:
            tweens = _span(segment.tween_frames)
            if segment.key_frame is None:
                lines.append(f"  tail tweens {tweens}")
                continue
            why = ", ".join(segment.reasons) or "cadence"
            lines.append(f"  diffuse {segment.key_frame} ({why}; {segment.strength_key})"
                         + (f" after tweens {tweens}" if tweens else ""))
        return "\n".join(lines)


def effective_cadence(animation_mode: str, diffusion_cadence: int) -> int:
    """Video Input and Interpolation diffuse every frame (the original ignored cadence there)."""
    return 1 if not traits(animation_mode).cadence else max(1, int(diffusion_cadence))


def plan_frames(max_frames: int, cadence: int, start_frame: int = 0) -> FramePlan:
    """Plan the original's loop, plus a tail so the last frames are written (the original lost them)."""
    if max_frames < 1 or cadence < 1 or not 0 <= start_frame:
        raise ValueError(f"Cannot plan {max_frames} frames with cadence {cadence} from frame {start_frame}")
    segments: list[Segment] = []
    keys = range(start_frame, max_frames, cadence)
    for key in keys:
        tween_start = max(start_frame, key - cadence) if cadence > 1 else key
        segments.append(Segment(key, tuple(range(tween_start, key)), tween_start, max(1, key - tween_start)))
    if cadence > 1 and len(keys) > 0:
        last = keys[-1]
        segments.append(Segment(None, tuple(range(last, max_frames)), last, cadence))
    return FramePlan(max_frames, cadence, start_frame, tuple(segments))


def _span(frames: tuple[int, ...]) -> str:
    """'a..b (n)' for a run of tween frames, '' for none."""
    if not frames:
        return ""
    return f"{frames[0]}..{frames[-1]} ({len(frames)})" if len(frames) > 1 else f"{frames[0]} (1)"


def plan_distributed(max_frames: int, cadence: int, diffused: Sequence[DiffusedFrame], distribution: str) -> FramePlan:
    """Keyframe distribution: each diffused frame after the warped tweens since the previous one; a warped tail."""
    if not diffused or diffused[0].frame != 0:
        raise ValueError("A keyframe distribution plan starts by diffusing frame 0.")
    segments: list[Segment] = []
    previous = -1
    for item in diffused:
        tweens = tuple(range(previous + 1, item.frame))
        segments.append(Segment(item.frame, tweens, previous + 1, max(1, item.frame - previous), item.reasons,
                                item.strength_key))
        previous = item.frame
    if previous < max_frames - 1:
        tail = tuple(range(previous + 1, max_frames))
        segments.append(Segment(None, tail, previous + 1, len(tail) + 1))
    return FramePlan(max_frames, cadence, 0, tuple(segments), distribution)


def plan_render(max_frames: int, animation_mode: str, cadence: int, distribution: str,
                prompt_frames: Sequence[int], parseq_keyframes: Sequence[int] | None = None) -> FramePlan:
    """The plan of a render: the original's cadence plan, or the keyframe distribution the settings ask for."""
    mode = shown_distribution(distribution, animation_mode)
    cadence = effective_cadence(animation_mode, cadence)
    if mode == "Off":
        return plan_frames(max_frames, cadence)
    diffused = diffused_frames(mode, max_frames, cadence, prompt_frames, parseq_keyframes)  # type: ignore[arg-type]
    return plan_distributed(max_frames, cadence, diffused, mode)
