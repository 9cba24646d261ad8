"""FramePlan: which frames are diffused and which are cadence tweens, as printable data."""

from __future__ import annotations

from dataclasses import dataclass

from deforum.models.modes import traits


@dataclass(frozen=True)
class Segment:
    """Tween frames emitted before diffusing `key_frame` (None for the final tail, which diffuses nothing)."""

    key_frame: int | None
    tween_frames: tuple[int, ...]
    tween_start: int
    denominator: int

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

    @property
    def diffused_frames(self) -> tuple[int, ...]:
        """Frames that go through the model service."""
        return tuple(s.key_frame for s in self.segments if s.key_frame is not None)

    def written_frames(self) -> tuple[int, ...]:
        """Frames saved, in the order the engine writes them."""
        frames: list[int] = []
        for segment in self.segments:
            frames.extend(segment.tween_frames)
            if self.cadence == 1 and segment.key_frame is not None:
                frames.append(segment.key_frame)
        return tuple(frames)

    def describe(self) -> str:
        """A human-readable listing of the plan."""
        lines = [f"{self.max_frames} frames, cadence {self.cadence}, from frame {self.start_frame}"]
        for segment in self.segments:
            tweens = ", ".join(f"{f}@{segment.tween_value(f):.2f}" for f in segment.tween_frames)
            key = "tail" if segment.key_frame is None else f"diffuse {segment.key_frame}"
            lines.append(f"  {key}" + (f" after tweens [{tweens}]" if tweens else ""))
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
