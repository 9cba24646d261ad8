"""A Wan Video run: plan, settings file, clips in order (each continuing from the last frame), .srt, video."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deforum.config.settings_io import save, write_text_atomic
from deforum.core.engine import ProgressCallback
from deforum.core.run import PostProcess, RunResult, claim_new_run, finish_video, new_timestring, run_folder
from deforum.core.services import CancelToken
from deforum.integrations.wan.models import WanModelError, WanModels, select_models
from deforum.integrations.wan.pipelines import PipelineLoader, generate_clip
from deforum.integrations.wan.plan import WanClip, WanPlan, chain_overlap, format_plan, plan_clips
from deforum.integrations.wan.seams import smooth_seam
from deforum.media.frames_io import existing_frames, frame_filename, load_image_source, read_image, write_png_atomic
from deforum.media.srt import frame_time_ms, srt_timestamp
from deforum.models.settings import Settings

log = logging.getLogger(__name__)

TRAINED_AREA_1_3B = 832 * 480
FLF2V_CHOICE = "14B FLF2V 720P"


def clip_cue(number: int, clip: WanClip, total: int, fps: float) -> str:
    """One .srt cue spanning the clip: clip number, frames, seed, then the prompt the model got."""
    span = f"{srt_timestamp(frame_time_ms(clip.start, fps))} --> {srt_timestamp(frame_time_ms(clip.end, fps))}"
    head = f"Clip {clip.index + 1}/{total}: frames {clip.start}-{clip.end - 1}, seed {clip.seed}, {clip.mode}"
    body = " ".join(clip.prompt.split())
    return f"{number}\n{span}\n{head}\n{body}\n\n"


def clips_srt(plan: WanPlan, done: int) -> str:
    """The .srt text for the first `done` clips: one cue per clip."""
    return "".join(clip_cue(n + 1, clip, len(plan.clips), plan.fps) for n, clip in enumerate(plan.clips[:done]))


def _warn_size(plan: WanPlan, models: WanModels) -> None:
    """Log when a 1.3B model is asked for more pixels than the 832x480 it was trained at."""
    labels = " ".join(m.label for m in (models.text, models.image) if m is not None)
    if "1.3B" in labels and plan.width * plan.height > 1.25 * TRAINED_AREA_1_3B:
        log.warning("Wan: 1.3B models are trained at 832x480; %dx%d may show artefacts (14B models do 1280x720).",
                    plan.width, plan.height)


def _init_frame(settings: Settings, plan: WanPlan) -> np.ndarray | None:
    """The init image at the clip size when clip 0 starts from it."""
    if not plan.clips or plan.clips[0].source != "init":
        return None
    return load_image_source(settings.args.init_image, (plan.width, plan.height), setting="init_image")


def _write_frames(outdir: Path, timestring: str, clip: WanClip, frames: np.ndarray) -> None:
    """Write the clip's frames as `<timestring>_<frame:09>.png`."""
    for offset, frame in enumerate(frames):
        write_png_atomic(outdir / frame_filename(timestring, clip.start + offset), frame)


@dataclass(frozen=True)
class Seams:
    """How chained clips meet: frames carried into the next clip, and the seam cross-fade (count, strength)."""

    overlap: int = 1
    fade_frames: int = 0
    fade_strength: float = 0.0


def seams_for(settings: Settings) -> Seams:
    """wan_frame_overlap, and wan_enable_interpolation / wan_interpolation_strength as the seam cross-fade."""
    overlap = chain_overlap(settings)
    strength = float(settings.forge.wan_interpolation_strength) if settings.forge.wan_enable_interpolation else 0.0
    return Seams(overlap, overlap, strength)


def _make_clip(loader: PipelineLoader, clip: WanClip, plan: WanPlan, previous: np.ndarray | None,
               cancel: CancelToken | None, seams: Seams) -> np.ndarray | None:
    """One clip's written frames: generated (aiming at its last-frame image), then cross-faded at the seam."""
    last = load_image_source(clip.last_image, (plan.width, plan.height), setting="init_images") \
        if clip.last_image else None
    frames = generate_clip(loader(clip.mode), clip, plan, previous if clip.mode == "i2v" else None, cancel, last)
    if frames is not None and previous is not None and clip.index > 0:
        frames = smooth_seam(previous[-1], frames, seams.fade_frames, seams.fade_strength)
    return frames


def render_clips(plan: WanPlan, loader: PipelineLoader, outdir: Path, timestring: str, *,
                 init: np.ndarray | None = None, cancel: CancelToken | None = None,
                 progress: ProgressCallback | None = None, first_clip: int = 0,
                 seams: Seams | None = None) -> tuple[int, bool]:
    """Make the clips from `first_clip` on, writing frames and the .srt as they finish; (frames written, cancelled).

    `init` holds the frames (K×H×W×3, or one H×W×3 image) the first clip made here continues from: the init image,
    or the previous clip's last frames on a resume.
    """
    seams = seams or Seams()
    previous = init[None] if init is not None and init.ndim == 3 else init
    written, srt = 0, outdir / f"{timestring}.srt"
    for done, clip in enumerate(plan.clips[first_clip:], start=first_clip):
        if cancel is not None and cancel.cancelled:
            return written, True
        log.info("Wan clip %d/%d: frames %d-%d, %s, seed %d", clip.index + 1, len(plan.clips), clip.start,
                 clip.end - 1, clip.mode, clip.seed)
        frames = _make_clip(loader, clip, plan, previous, cancel, seams)
        if frames is None:
            return written, True
        _write_frames(outdir, timestring, clip, frames)
        written += len(frames)
        kept = frames if previous is None else np.concatenate([previous, frames])
        previous = kept[-seams.overlap:]
        write_text_atomic(srt, clips_srt(plan, done + 1))
        if progress is not None:
            progress(clip.end, plan.max_frames)
    return written, False


def finished_clips(plan: WanPlan, outdir: Path, timestring: str) -> int:
    """How many leading clips have every frame on disk (an interrupted run continues after them)."""
    on_disk = set(existing_frames(outdir, timestring))
    done = 0
    for clip in plan.clips:
        if not on_disk.issuperset(range(clip.start, clip.end)):
            break
        done += 1
    return done


def _resume_from(settings: Settings, plan: WanPlan, outdir: Path, timestring: str) -> tuple[int, np.ndarray | None]:
    """(first clip to make, image it continues from) for a resumed run; the init image when nothing is done."""
    done = finished_clips(plan, outdir, timestring)
    if done == 0:
        return 0, _init_frame(settings, plan)
    last = plan.clips[done - 1].end - 1
    log.info("Resuming Wan run %s after clip %d/%d (frames 0-%d on disk).", timestring, done, len(plan.clips), last)
    first = max(0, last + 1 - chain_overlap(settings))
    return done, np.stack([read_image(outdir / frame_filename(timestring, i)) for i in range(first, last + 1)])


def check_first_last(settings: Settings, plan: WanPlan) -> None:
    """The FLF2V model choice needs a last-frame image for every clip it makes; say which frame lacks one."""
    if settings.forge.wan_i2v_model != FLF2V_CHOICE:
        return
    lacking = [clip for clip in plan.clips if clip.mode == "i2v" and not clip.last_image]
    if lacking:
        frames = ", ".join(f"{c.end - 1} or {c.end}" for c in lacking)
        raise WanModelError(f"Setting 'wan_i2v_model': {FLF2V_CHOICE!r} makes each clip toward a last frame; add "
                            f"guided images (init_images, use_looper on) at frame {frames}, or choose an I2V or VACE "
                            "model.")


def render_wan(settings: Settings, root: Path, *, pipeline_loader: PipelineLoader | None = None,
               cancel: CancelToken | None = None, progress: ProgressCallback | None = None,
               timestring: str | None = None, models_dir: str | os.PathLike[str] | None = None,
               resume: str | None = None, postprocess: PostProcess | None = None) -> RunResult:
    """Render settings in Wan Video mode into `<root>/<batch_name>/`: frames, settings, plan, .srt and the video.

    `pipeline_loader(role)` returns the diffusers pipeline for 't2v' or 'i2v' clips; by default the models the
    wan_* settings name are found on disk (or downloaded, see models.py) and loaded once, in this process or, where its
    Python lacks diffusers' Wan pipelines, in a worker process (worker.py; closed when the run ends).
    Cancelling stops before the next clip (or within one, discarding it) and keeps the frames written. `resume`
    continues that run: the clips whose frames are all on disk are kept and the next one starts from the last
    kept frames. `postprocess` (upscaling, RIFE/FILM interpolation) runs on the stitched video as for the other
    animation modes.
    """
    timestring = resume or timestring or new_timestring()
    outdir, batch_name, seed = run_folder(settings, Path(root), timestring, resume=resume is not None)
    plan = plan_clips(settings, seed)
    log.info("%s", format_plan(plan))
    check_first_last(settings, plan)
    if pipeline_loader is None:
        from deforum.integrations.wan.worker import pipeline_loader_for

        models = select_models(settings, {clip.mode for clip in plan.clips}, models_dir)
        _warn_size(plan, models)
        pipeline_loader = pipeline_loader_for(models, attention=settings.forge.wan_flash_attention_mode)
    first_clip, init = _resume_from(settings, plan, outdir, timestring) if resume else (0, _init_frame(settings, plan))
    if resume is None:
        timestring, outdir, batch_name = claim_new_run(settings, Path(root), timestring)
    outdir.mkdir(parents=True, exist_ok=True)
    save(settings.replace(seed=seed, batch_name=batch_name), outdir / f"{timestring}_settings.txt", shape="run")
    write_text_atomic(outdir / f"{timestring}_wan_plan.txt", format_plan(plan) + "\n")
    if progress is not None and first_clip:
        progress(plan.clips[first_clip - 1].end, plan.max_frames)
    try:
        written, cancelled = render_clips(plan, pipeline_loader, outdir, timestring, init=init, cancel=cancel,
                                          progress=progress, first_clip=first_clip, seams=seams_for(settings))
    finally:
        getattr(pipeline_loader, "close", lambda: None)()
    video, extra = finish_video(settings, outdir, timestring, postprocess)
    return RunResult(outdir, timestring, written, cancelled, video, extra)
