"""The tab's controls that are not settings: batch files, loaders, the Output tools and the results column."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deforum.models.spec_anim import DEPTH_ALGORITHMS
from deforum.ui import actions
from deforum.ui.components import js_kwargs
from deforum.ui.host import TabHost

SUBMIT_JS = "submit_deforum"
DEFAULT_DEPTH = "Depth-Anything-V2-Small"
DEPTH_CHOICES = DEPTH_ALGORITHMS


def _batch(gr: Any, host: TabHost) -> dict[str, Any]:
    """Batch mode: render each uploaded settings file in turn."""
    enabled = gr.Checkbox(label="Enable batch mode", value=False, elem_id="deforum_override_settings",
                          info="render each settings file below, one after another (the panels are ignored)")
    files = gr.File(label="Setting files", file_count="multiple", file_types=[".txt", ".json"],
                    elem_id="deforum_custom_settings_file", visible=False, interactive=True)
    return {"batch_enabled": enabled, "batch_files": files}


def _video_settings(gr: Any, host: TabHost) -> dict[str, Any]:
    """Load only the Output settings from a settings file."""
    with gr.Row():
        path = gr.Textbox(label="Video settings file", value=actions.DEFAULT_SETTINGS_PATH,
                          elem_id="deforum_video_settings_path")
        button = gr.Button("Load Video Settings", elem_id="deforum_load_video_settings")
    return {"video_settings_path": path, "load_video_settings": button}


def _run_tool(run: Callable[..., str], done: str) -> Callable[..., str]:
    """A tool's click handler: the result or the error as a message."""

    def handler(*args: Any) -> str:
        """Run the tool."""
        try:
            return actions.message(f"{done}: {run(*args)}")
        except (ValueError, OSError, RuntimeError) as err:
            return actions.message(str(err), error=True)

    return handler


def _frames_to_video(gr: Any, host: TabHost) -> dict[str, Any]:
    """Stitch an existing frame sequence into an MP4 (ffmpeg options from the WebUI settings)."""
    path = gr.Textbox(label="Image path", value="C:/SD/20230124234916_%09d.png", elem_id="deforum_image_path")
    with gr.Row():
        fps = gr.Number(label="FPS", value=15, elem_id="deforum_ftv_fps")
        soundtrack = gr.Textbox(label="Soundtrack (optional)", value="", elem_id="deforum_ftv_soundtrack")
    button = gr.Button("Stitch frames to video", elem_id="deforum_ftv_button")
    result = gr.HTML(elem_id="deforum_ftv_result")
    button.click(fn=_run_tool(host.tools.frames_to_video, "Video written"), inputs=[path, fps, soundtrack],
                 outputs=[result])
    return {"ftv_button": button}


def _vid2depth(gr: Any, host: TabHost) -> dict[str, Any]:
    """Depth maps of a video, image or folder (weights from the WebUI's models folder)."""
    source = gr.Textbox(label="Video, image or folder path", value="", elem_id="deforum_vid2depth_source")
    with gr.Row():
        algorithm = gr.Dropdown(label="Depth algorithm", choices=list(host.choices.get("vid2depth", DEPTH_CHOICES)),
                                value=DEFAULT_DEPTH,
                                elem_id="deforum_vid2depth_algorithm")
        keep = gr.Checkbox(label="Keep Imgs", value=True, elem_id="deforum_vid2depth_keep_imgs")
    button = gr.Button("Get depth", elem_id="deforum_vid2depth_button")
    result = gr.HTML(elem_id="deforum_vid2depth_result")
    button.click(fn=_run_tool(host.tools.vid2depth, "Depth written to"), inputs=[source, algorithm, keep],
                 outputs=[result])
    return {"vid2depth_button": button}


def _upscale_tool(gr: Any, host: TabHost) -> dict[str, Any]:
    """Frame interpolation (RIFE/FILM) and Real-ESRGAN upscaling of an existing video or frame sequence."""
    source = gr.Textbox(label="Video, frames folder or %09d pattern", value="", elem_id="deforum_tool_source")
    fps = gr.Number(label="FPS of frames (videos: read from the file)", value=0, elem_id="deforum_tool_fps")
    with gr.Row():
        engine = gr.Dropdown(label="Engine", choices=["RIFE v4.6", "FILM"], value="RIFE v4.6",
                             elem_id="deforum_tool_engine")
        amount = gr.Number(label="Interp X", value=2, precision=0, elem_id="deforum_tool_x")
        slow_mo = gr.Number(label="Slow-Mo X (1 = off)", value=1, precision=0, elem_id="deforum_tool_slow_mo")
        keep = gr.Checkbox(label="Keep Imgs", value=True, elem_id="deforum_tool_keep_imgs")
    interpolate = gr.Button("Interpolate", elem_id="deforum_tool_interpolate")
    with gr.Row():
        model = gr.Dropdown(label="Upscale model", value="realesr-animevideov3", elem_id="deforum_tool_model",
                            choices=["realesr-animevideov3", "realesrgan-x4plus", "realesrgan-x4plus-anime"])
        factor = gr.Dropdown(label="Upscale factor", choices=["x2", "x3", "x4"], value="x2",
                             elem_id="deforum_tool_factor")
    upscale = gr.Button("Upscale", elem_id="deforum_tool_upscale")
    result = gr.HTML(elem_id="deforum_tool_result")
    interpolate.click(fn=_run_tool(host.tools.interpolate, "Video written"),
                      inputs=[source, engine, amount, slow_mo, keep, fps], outputs=[result])
    upscale.click(fn=_run_tool(host.tools.upscale, "Video written"), inputs=[source, model, factor, keep, fps],
                  outputs=[result])
    return {"interpolate_button": interpolate, "upscale_button": upscale}


WIDGETS: dict[str, Callable[[Any, TabHost], dict[str, Any]]] = {
    "batch": _batch, "video_settings": _video_settings, "frames_to_video": _frames_to_video,
    "vid2depth": _vid2depth, "upscale_tool": _upscale_tool,
}


@dataclass
class OutputColumn:
    """The right-hand column: Generate/Interrupt/Pause, results, settings file buttons."""

    task_id: Any
    generate: Any
    interrupt: Any
    skip: Any
    gallery: Any
    video: Any
    info: Any
    log: Any
    settings_path: Any
    save: Any
    load: Any

    def wire_generate(self, gr: Any, host: TabHost, handler: Callable[..., list[Any]], inputs: list[Any],
                      resume: Any) -> None:
        """Generate (with the WebUI's progress bar), Interrupt and Pause/Resume."""
        self.generate.click(fn=handler, inputs=[self.task_id, *inputs],
                            outputs=[self.gallery, self.video, resume, self.info, self.log],
                            **js_kwargs(gr, SUBMIT_JS))
        self.interrupt.click(fn=host.interrupt, inputs=[], outputs=[], queue=False)
        self.skip.click(fn=host.skip, inputs=[], outputs=[], queue=False)


def build_output_column(gr: Any) -> OutputColumn:
    """Build the results column."""
    with gr.Row(elem_id="deforum_generate_box", elem_classes="generate-box"):
        interrupt = gr.Button("Interrupt", elem_id="deforum_interrupt", elem_classes="generate-box-interrupt")
        skip = gr.Button("Pause/Resume", elem_id="deforum_skip", elem_classes="generate-box-skip")
        gr.Button("Interrupting...", elem_id="deforum_interrupting", elem_classes="generate-box-interrupting")
        generate = gr.Button("Generate", elem_id="deforum_generate", variant="primary")
    task_id = gr.Textbox(visible=False, elem_id="deforum_task_id")
    with gr.Column(elem_id="deforum_gallery_container"):
        gallery = gr.Gallery(label="Output", elem_id="deforum_gallery", columns=4, height=360, show_label=False)
    video = gr.Video(label="Video", elem_id="deforum_video", interactive=False, height=360)
    info = gr.HTML(elem_id="deforum_info")
    log = gr.HTML(elem_id="deforum_log")
    settings_path = gr.Textbox(label="Settings file", value=actions.DEFAULT_SETTINGS_PATH,
                               elem_id="deforum_settings_path")
    with gr.Row():
        save = gr.Button("Save Settings", elem_id="deforum_save_settings")
        load = gr.Button("Load All Settings", elem_id="deforum_load_settings")
    return OutputColumn(task_id, generate, interrupt, skip, gallery, video, info, log, settings_path, save, load)
