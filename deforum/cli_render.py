"""The `render` command: settings file → frames and video (motion preview or a local checkpoint)."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import sys
from pathlib import Path

from deforum.core.services import CancelToken, DepthEstimator, FlowEstimator, ModelService
from deforum.core.support import needs_depth, needs_raft
from deforum.models.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_OUTDIR = "outputs"
NEEDS_MODEL = ("Rendering with diffusion needs a model: pass --model PATH to a local checkpoint "
               "(.safetensors/.ckpt or a diffusers folder, e.g. a WebUI models/Stable-diffusion file), "
               "or use --preview for a motion preview without diffusion.")


def _progress_bar(total: int):
    """A tqdm bar advanced to the frame number reported by the engine."""
    from tqdm import tqdm

    bar = tqdm(total=total, unit="frame", file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        """Advance the bar to frame `done` (of `total`: a Parseq manifest may change the frame count)."""
        if bar.total != total:
            bar.total = total
        bar.update(max(0, done - bar.n))

    return bar, update


def model_service(model: str | None, models_dir: str | None, preview: bool) -> ModelService:
    """The motion-preview service, or diffusers over a local checkpoint."""
    if preview:
        from deforum.core.preview import PreviewModelService

        return PreviewModelService()
    from deforum.integrations.diffusers_service import load_model_service

    return load_model_service(model, models_dir=models_dir)


def word_masker_service(settings: Settings, models_dir: str | None):
    """CLIPSeg when a mask schedule in use names `<words>` (missing weights: a clear error before rendering)."""
    from deforum.core.masking import uses_word_masks

    if not uses_word_masks(settings):
        return None
    from deforum.integrations.clipseg import ClipSegMissing, load_word_masker

    try:
        return load_word_masker(models_dir)
    except ClipSegMissing as err:
        raise ValueError(f"Setting 'mask_schedule': {err}") from None


def depth_service(settings: Settings, models_dir: str | None, preview: bool) -> DepthEstimator | None:
    """The depth model for this render; a motion preview falls back to flat depth when weights are absent."""
    if not needs_depth(settings):
        return None
    from deforum.depth import DEPTH_MODEL_CACHE, DepthModelMissing

    try:
        return DEPTH_MODEL_CACHE.estimator(settings.anim.depth_algorithm, models_dir=models_dir,
                                           midas_weight=settings.anim.midas_weight)
    except DepthModelMissing as err:
        if not preview:
            raise ValueError(str(err)) from None
        log.warning("No depth weights for %s: the preview uses flat depth. %s", settings.anim.depth_algorithm,
                    str(err).splitlines()[0])
        return None


def _srt_params(text: str | None) -> list[str] | None:
    """The --srt parameter names (None when --srt is not given)."""
    if text is None:
        return None
    from deforum.media.srt import SRT_PARAM_CHOICES

    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SRT_PARAM_CHOICES]
    if unknown:
        raise ValueError(f"--srt: unknown parameter(s) {', '.join(unknown)}. Allowed: {', '.join(SRT_PARAM_CHOICES)}")
    return names


def _cancel_on_first_interrupt(cancel: CancelToken):
    """A SIGINT handler: the first Ctrl-C stops after the current frame (video still made), a second aborts."""

    def handler(signum: int, frame: object) -> None:
        """Cancel, then restore the default handler."""
        cancel.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    return handler


def flow_service(settings: Settings, models_dir: str | None, preview: bool) -> FlowEstimator | None:
    """RAFT when optical-flow cadence or redo asks for it; a preview without its weights blends plainly."""
    if not needs_raft(settings):
        return None
    from deforum.media.flow import RaftWeightsMissingError, load_raft, raft_weights_path

    try:
        return load_raft(raft_weights_path(models_dir or os.environ.get("DEFORUM_MODELS_DIR", "models")))
    except RaftWeightsMissingError as err:
        if not preview:
            raise ValueError(str(err)) from None
        log.warning("No RAFT weights: the preview's cadence frames are plain blends. %s", str(err).splitlines()[0])
        return None


def print_plan(settings: Settings) -> int:
    """--plan: print which frames are diffused and why (Wan Video: its clips); render nothing."""
    if settings.anim.animation_mode == "Wan Video":
        from deforum.integrations.wan.plan import format_plan, plan_clips

        print(format_plan(plan_clips(settings, max(0, settings.args.seed))))
        return 0
    from deforum.core.run import plan_of
    from deforum.integrations.render_hooks import render_hooks

    print(plan_of(settings, render_hooks(settings)).describe())
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    """Load, override, render; print the output folder last."""
    from deforum.config.overrides import apply_overrides
    from deforum.config.settings_io import load
    from deforum.core.engine import RenderServices
    from deforum.core.run import OutputOptions, run_render
    from deforum.integrations.matting import matting_for
    from deforum.integrations.render_hooks import render_hooks
    from deforum.integrations.weights import checkpoint_identity

    settings = apply_overrides(load(args.settings), args.set or [])
    if args.plan:
        return print_plan(settings)
    if settings.anim.animation_mode == "Wan Video":
        from deforum.cli_wan import cmd_render_wan

        return cmd_render_wan(settings, args)
    preview = args.preview or settings.args.motion_preview_mode
    settings = settings.replace(motion_preview_mode=preview)
    if not preview and not args.model:
        raise ValueError(NEEDS_MODEL)
    hooks = render_hooks(settings)
    from deforum.depth import DEPTH_MODEL_CACHE
    from deforum.integrations.postprocess import check_postprocess_weights, run_postprocess

    check_postprocess_weights(settings, args.models_dir)

    services = RenderServices(model=model_service(args.model, args.models_dir, preview),
                              word_masker=word_masker_service(settings, args.models_dir),
                              depth=depth_service(settings, args.models_dir, preview),
                              flow=flow_service(settings, args.models_dir, preview),
                              matting=matting_for(settings, args.models_dir))
    model_name, model_hash = ("", "") if preview else checkpoint_identity(args.model)
    bar, update = _progress_bar(settings.anim.max_frames)
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, _cancel_on_first_interrupt(cancel))
    try:
        result = run_render(settings, services, Path(args.outdir), resume=args.resume, cancel=cancel,
                            progress=update, subtitles=_srt_params(args.srt),
                            postprocess=functools.partial(run_postprocess, models_dir=args.models_dir),
                            hooks=hooks, output=OutputOptions(model_name=model_name, model_hash=model_hash))
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
        DEPTH_MODEL_CACHE.end_run()
    if result.cancelled:
        print(f"interrupted: {result.frames_written} frame(s) written; continue with --resume {result.timestring}",
              file=sys.stderr)
    for video in (result.video, *result.extra_videos):
        if video:
            print(f"video: {video}", file=sys.stderr)
    print(result.outdir)
    return 0


def add_render_command(sub: argparse._SubParsersAction) -> None:
    """Register `render SETTINGS [--preview] [--set KEY=VALUE ...] [--outdir DIR] [--model PATH] [--resume TS]`."""
    render = sub.add_parser("render", help="render a settings file to frames and a video")
    render.add_argument("settings", help="settings file (.txt/.json as the original saves them)")
    render.add_argument("--preview", action="store_true", help="motion preview: no diffusion, runs anywhere")
    render.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting (repeatable)")
    render.add_argument("--outdir", default=DEFAULT_OUTDIR, help="output root; frames go to OUTDIR/<batch_name>/")
    render.add_argument("--model", help="local checkpoint for diffusion")
    render.add_argument("--models-dir",
                        help="folder with Deforum/<depth or RAFT model> (default $DEFORUM_MODELS_DIR, ./models)")
    render.add_argument("--srt", nargs="?", const="", metavar="PARAMS",
                        help="write <timestring>.srt with each frame's seed and these comma-separated parameters, "
                             "e.g. --srt 'Zoom,Angle,Prompt'")
    render.add_argument("--resume", metavar="TIMESTRING", help="continue an interrupted run in the same folder")
    render.add_argument("--plan", action="store_true",
                        help="print the frame plan (which frames are diffused and why) and exit")
    render.set_defaults(handler=cmd_render)
