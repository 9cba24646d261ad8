"""One whole run: output folder and settings file, schedules, the render loop, then the video."""

from __future__ import annotations

import dataclasses
import logging
import random
import shutil
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deforum.animation.keys import AnimationKeys
from deforum.config.settings_io import run_record, save
from deforum.core.engine import ProgressCallback, RenderOutcome, render
from deforum.core.hybrid_source import HybridVideo, hybrid_available
from deforum.core.inputs import ControlNetSource, RenderHook, RenderInputs, RenderServices
from deforum.core.masking import RenderMasks, extract_mask_frames, uses_masks
from deforum.core.plan import FramePlan
from deforum.core.preview_video import PreviewVideo
from deforum.core.resume import ResumeError, check_resume_settings, resume_point, saved_seed
from deforum.core.run_claim import claim_timestring, release_claim
from deforum.core.run_inputs import render_inputs, with_shake
from deforum.core.services import CancelToken, ModelService
from deforum.core.sink import DiskFrameSink
from deforum.core.state import FrameState
from deforum.core.steps import frame_size
from deforum.core.subtitles import FrameSubtitles
from deforum.core.support import check_supported
from deforum.media.frames_io import (
    existing_frames,
    frame_filename,
    frames_pattern,
    input_frame_filename,
    load_image_source,
    remove_stale_temp_files,
    substitute_batch_name,
)
from deforum.media.remote import with_url_inputs
from deforum.media.video import (
    VideoError,
    delete_frames_after_verify,
    extract_video_frames,
    make_gif,
    resolve_soundtrack,
    stitch_video,
)
from deforum.media.video_pipe import VideoPipe
from deforum.models.generation import GeneratedImage, GenerationRequest
from deforum.models.modes import traits
from deforum.models.settings import Settings

log = logging.getLogger(__name__)
PostProcess = Callable[[Settings, Path, str, Path], Sequence[Path]]


@dataclass(frozen=True)
class OutputOptions:
    """How a run's files are written: the ffmpeg encoding, the model recorded in the settings file, and the
    in-progress preview video every `preview_every` frames (0: none)."""

    crf: int = 17
    preset: str = "slow"
    ffmpeg: str | None = None
    model_name: str = ""
    model_hash: str = ""
    preview_every: int = 0


@dataclass(frozen=True)
class RunResult:
    """What a run produced."""

    outdir: Path
    timestring: str
    frames_written: int
    cancelled: bool
    video: Path | None
    extra_videos: tuple[Path, ...] = ()


def new_timestring() -> str:
    """The original's run id: local time as YYYYmmddHHMMSS."""
    return time.strftime("%Y%m%d%H%M%S")


def resolve_run_seed(seed: int, rng: random.Random | None = None) -> int:
    """Seed −1 becomes a random seed once per run (recorded in the saved settings)."""
    return (rng or random.SystemRandom()).randint(0, 2**32 - 1) if seed == -1 else seed


def output_folder(settings: Settings, root: Path, timestring: str, seed: int) -> tuple[Path, str]:
    """`<root>/<batch_name>` with the original's placeholders substituted."""
    values = {**settings.to_flat(), "timestring": timestring, "seed": seed}
    batch_name = substitute_batch_name(settings.args.batch_name, values)
    return root / batch_name, batch_name


def _coherence_image(settings: Settings) -> np.ndarray | None:
    """The fixed colour reference of color_coherence 'Image'."""
    anim = settings.anim
    if anim.color_coherence != "Image":
        return None
    return load_image_source(anim.color_coherence_image_path, frame_size(settings),
                             setting="color_coherence_image_path")


def extract_input_frames(settings: Settings, outdir: Path) -> tuple[Settings, tuple[Path, ...]]:
    """Video Input mode: extract the init video to `inputframes/`; max_frames becomes their count."""
    anim = settings.anim
    if not traits(anim.animation_mode).video_init:
        return settings, ()
    folder = outdir / "inputframes"
    try:
        count = extract_video_frames(anim.video_init_path.strip().strip('"'), str(folder),
                                     every_nth=anim.extract_nth_frame, from_frame=anim.extract_from_frame,
                                     to_frame=anim.extract_to_frame, overwrite=anim.overwrite_extracted_frames)
    except VideoError as err:
        raise ValueError(f"Setting 'video_init_path': {err}") from None
    frames = tuple(folder / input_frame_filename(anim.video_init_path.strip().strip('"'), i) for i in range(count))
    return settings.replace(max_frames=count), frames


def prepare_hybrid(settings: Settings, outdir: Path, timestring: str, video_frames: tuple[Path, ...],
                   services: RenderServices) -> HybridVideo | None:
    """Hybrid video when a composite or hybrid motion is chosen (ignored, with a warning, in Interpolation)."""
    if not hybrid_available(settings):
        return None
    if not traits(settings.anim.animation_mode).hybrid:
        log.warning("Hybrid video does nothing in %s mode; hybrid settings are ignored.", settings.anim.animation_mode)
        return None
    frames = video_frames if traits(settings.anim.animation_mode).video_init else None
    return HybridVideo.prepare(settings, outdir, timestring, frames=frames, depth=services.depth,
                               flow=services.flow, matting=services.matting)


def guided_settings(settings: Settings) -> Settings:
    """Guided images force seed_behavior 'schedule' and strength_0_no_init off, as the original did."""
    if not settings.loop.use_looper or not traits(settings.anim.animation_mode).camera_motion:
        return settings
    if settings.args.strength == 0:
        raise ValueError("Setting 'strength': guided images (use_looper) need a strength above 0 in the Init tab.")
    return settings.replace(seed_behavior="schedule", strength_0_no_init=False)


class ControlledModelService:
    """A model service that gives every request the ControlNet units of its frame and init image."""

    def __init__(self, model: ModelService, source: ControlNetSource, keys: AnimationKeys) -> None:
        self.model, self.source, self.keys = model, source, keys

    def generate(self, request: GenerationRequest, cancel: CancelToken | None = None) -> GeneratedImage:
        """Generate with the frame's units added."""
        units = self.source.units(self.keys, request.frame, request.init_image)
        return self.model.generate(dataclasses.replace(request, controlnet=units), cancel)


def with_controlnet(services: RenderServices, inputs: RenderInputs) -> RenderServices:
    """The services with the model wrapped in ControlledModelService when the inputs have a ControlNet source."""
    if inputs.controlnet is None:
        return services
    return dataclasses.replace(services, model=ControlledModelService(services.model, inputs.controlnet, inputs.keys))


def first_pending_frame(plan: FramePlan, state: FrameState) -> int:
    """The first frame a render starting from `state` writes."""
    pending = [f for seg in plan.segments[state.next_segment:] for f in (*seg.tween_frames, seg.key_frame)
               if f is not None]
    return min(pending, default=plan.max_frames)


def _subtitles(settings: Settings, inputs: RenderInputs, path: Path, selected: Collection[str] | None,
               keep_before: int | None) -> FrameSubtitles | None:
    """The .srt writer when subtitles are asked for."""
    if selected is None:
        return None
    return FrameSubtitles(path, settings.output.fps, inputs.keys, inputs.prompt_texts, selected,
                          keep_frames_before=keep_before)


def run_folder(settings: Settings, root: Path, timestring: str, *, resume: bool) -> tuple[Path, str, int]:
    """(output folder, batch name, run seed); a resumed run's folder must exist and keeps its recorded seed."""
    outdir, batch_name = output_folder(settings, root, timestring, settings.args.seed)
    if resume and not outdir.is_dir():
        raise ResumeError(f"Cannot resume {timestring}: folder {outdir} does not exist. Check --outdir and "
                          "batch_name.")
    recorded = saved_seed(outdir, timestring) if resume else None
    return outdir, batch_name, recorded if recorded is not None else resolve_run_seed(settings.args.seed)


def claim_new_run(settings: Settings, root: Path, timestring: str) -> tuple[str, Path, str]:
    """(timestring, folder, batch name) of a new run: `timestring` or the next second nobody has claimed."""
    def folder_of(moment: str) -> Path:
        return output_folder(settings, root, moment, settings.args.seed)[0]

    claimed, outdir = claim_timestring(folder_of, timestring)
    return claimed, outdir, output_folder(settings, root, claimed, settings.args.seed)[1]


def start_run(settings: Settings, root: Path, *, timestring: str | None,
              resume: str | None) -> tuple[str, Path, str, int]:
    """(timestring, folder, batch name, seed) of a new run, its timestring claimed, or of the run `resume` continues."""
    if resume is None:
        timestring = claim_new_run(settings, root, timestring or new_timestring())[0]
    else:
        timestring = resume
    outdir, batch_name, seed = run_folder(settings, root, timestring, resume=resume is not None)
    return timestring, outdir, batch_name, seed


def _prepared(settings: Settings, services: RenderServices, outdir: Path, timestring: str, seed: int,
              hooks: Sequence[RenderHook]) -> tuple[Settings, RenderInputs, RenderServices]:
    """The run's settings, inputs and services once its sources (video frames, hybrid, masks, hooks) are ready."""
    settings = guided_settings(settings)
    settings, video_frames = extract_input_frames(settings, outdir)
    hybrid = prepare_hybrid(settings, outdir, timestring, video_frames, services)
    settings = hybrid.adjust(settings) if hybrid else settings
    settings, mask_frames = extract_mask_frames(settings, outdir)
    for hook in hooks:
        settings = hook.adjust_settings(settings)
    inputs = dataclasses.replace(render_inputs(settings, seed, video_frames), hybrid=hybrid, outdir=outdir)
    for hook in hooks:
        inputs = hook.decorate(inputs)
    inputs = with_shake(inputs)
    services = with_controlnet(services, inputs)
    if uses_masks(settings):
        inputs = dataclasses.replace(inputs, masks=RenderMasks(settings, inputs.keys, frame_size(settings),
                                                               mask_frames, services.word_masker))
    return settings, inputs, services


def _resumed(settings: Settings, inputs: RenderInputs, outdir: Path, timestring: str,
             requested_seed: int) -> tuple[RenderInputs, FrameState]:
    """The inputs and state a resumed run continues from, after refusing settings that would change its frames."""
    check_resume_settings(outdir / f"{timestring}_settings.txt", settings.to_flat(), requested_seed)
    remove_stale_temp_files(outdir)
    point = resume_point(DiskFrameSink(outdir, timestring), inputs.plan)
    return dataclasses.replace(inputs, plan=point.plan), point.state


@with_url_inputs
def run_render(settings: Settings, services: RenderServices, root: Path, *, resume: str | None = None,
               cancel: CancelToken | None = None, progress: ProgressCallback | None = None,
               timestring: str | None = None, subtitles: Collection[str] | None = None,
               postprocess: PostProcess | None = None, output: OutputOptions | None = None,
               hooks: Sequence[RenderHook] = ()) -> RunResult:
    """Render settings into `<root>/<batch_name>/`; resume continues the run with that timestring.

    `subtitles` lists the parameters to print in `<timestring>.srt` (None: no .srt); `postprocess` runs after
    the video is stitched (upscaling and frame interpolation, from integrations); `hooks` (Parseq, ControlNet)
    adjust the settings before they are saved and decorate the inputs; `output` sets the video encoding and the
    model recorded in `<timestring>_settings.txt`.
    """
    check_supported(settings, {key for hook in hooks for key in hook.handles})
    requested_seed = settings.args.seed
    timestring, outdir, batch_name, seed = start_run(settings, root, timestring=timestring, resume=resume)
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        settings, inputs, services = _prepared(settings, services, outdir, timestring, seed, hooks)
    except BaseException:
        if resume is None:
            release_claim(outdir / f"{timestring}_settings.txt")
        raise
    state = FrameState(color_sample=_coherence_image(settings))
    if resume:
        inputs, state = _resumed(settings.replace(seed=seed, batch_name=batch_name), inputs, outdir, timestring,
                                 requested_seed)
    output = output or OutputOptions()
    save(run_record(settings, seed=seed, batch_name=batch_name), outdir / f"{timestring}_settings.txt", shape="run",
         model_name=output.model_name, model_hash=output.model_hash)
    keep_before = first_pending_frame(inputs.plan, state) if resume else None
    pipe = None if resume else video_pipe(settings, outdir / f"{timestring}.mp4", output)
    sink = DiskFrameSink(outdir, timestring, depth_larger_is_nearer=getattr(services.depth, "larger_is_nearer", True),
                         subtitles=_subtitles(settings, inputs, outdir / f"{timestring}.srt", subtitles, keep_before),
                         video=pipe, after_frame=preview_video(settings, outdir, timestring, inputs.plan.max_frames,
                                                               output))
    outcome = render_to_sink(inputs, services, sink, pipe, cancel=cancel, progress=progress, state=state)
    video, extra = finish_video(settings, outdir, timestring, postprocess, output, piped=pipe)
    return RunResult(outdir, timestring, outcome.frames_written, outcome.cancelled, video, extra)


def video_pipe(settings: Settings, path: Path, output: OutputOptions) -> VideoPipe | None:
    """The video encoder fed during the render, unless video creation is skipped."""
    if settings.output.skip_video_creation:
        return None
    return VideoPipe(path, settings.output.fps, crf=output.crf, preset=output.preset, ffmpeg=output.ffmpeg)


def preview_video(settings: Settings, outdir: Path, timestring: str, max_frames: int,
                  output: OutputOptions) -> PreviewVideo | None:
    """The in-progress preview video when `output.preview_every` asks for one."""
    if output.preview_every <= 0:
        return None
    out = settings.output
    return PreviewVideo(outdir, timestring, output.preview_every, max_frames, out.fps,
                        soundtrack=resolve_soundtrack(out.add_soundtrack, out.soundtrack_path,
                                                      settings.anim.video_init_path),
                        crf=output.crf, preset=output.preset, ffmpeg=output.ffmpeg)


def render_to_sink(inputs: RenderInputs, services: RenderServices, sink: DiskFrameSink, pipe: VideoPipe | None, *,
                   cancel: CancelToken | None, progress: ProgressCallback | None, state: FrameState) -> RenderOutcome:
    """Render into the sink and finish its writes (their first error is raised); the checkpoint goes on success."""
    try:
        outcome = render(inputs, services, sink, cancel=cancel, progress=progress, state=state)
        sink.close()
    except BaseException:
        sink.abort()
        if pipe is not None:
            pipe.abort()
        raise
    if not outcome.cancelled:
        sink.clear_state()
    return outcome


@with_url_inputs
def finish_video(settings: Settings, outdir: Path, timestring: str, postprocess: PostProcess | None = None,
                 output: OutputOptions | None = None, *,
                 piped: VideoPipe | None = None) -> tuple[Path | None, tuple[Path, ...]]:
    """`<timestring>.mp4` of the frames that exist (0..n without gaps): the one encoded during the render (`piped`)
    when it holds exactly those frames, else stitched from them; then gif, post-processing (upscaling,
    interpolation) and clean-up; returns the video and the extra videos."""
    out = settings.output
    if out.delete_input_frames:
        delete_input_frames(outdir)
    frames = existing_frames(outdir, timestring)
    count = next((i for i, f in enumerate(frames) if f != i), len(frames))
    if out.skip_video_creation or count == 0:
        if piped is not None:
            piped.abort()
        return None, ()
    pattern = frames_pattern(outdir, f"{timestring}_%09d.png")
    soundtrack = resolve_soundtrack(out.add_soundtrack, out.soundtrack_path, settings.anim.video_init_path)
    video = outdir / f"{timestring}.mp4"
    output = output or OutputOptions()
    if piped is None or piped.finish(count, soundtrack=soundtrack) is None:
        stitch_video(pattern, str(video), out.fps, frame_count=count, soundtrack=soundtrack, crf=output.crf,
                     preset=output.preset, ffmpeg=output.ffmpeg)
    if out.make_gif:
        make_gif(pattern, str(outdir / f"{timestring}.gif"), out.fps, ffmpeg=output.ffmpeg)
    extra = tuple(postprocess(settings, outdir, timestring, video)) if postprocess else ()
    if out.delete_imgs:
        delete_frames_after_verify(str(outdir), timestring, count, str(video), ffmpeg=output.ffmpeg)
    log.info("Video: %s (%d frames of %s)", video, count, frame_filename(timestring, 0))
    return video, extra


def delete_input_frames(outdir: Path) -> None:
    """delete_input_frames: remove the frames extracted from the init video and the ControlNet videos, as the
    original did after the video (mask and hybrid frames stay)."""
    for folder in [outdir / "inputframes", *sorted(outdir.glob("controlnet_*_inputframes"))]:
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            log.info("Deleted the input frames in %s (delete_input_frames).", folder)
