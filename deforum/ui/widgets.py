"""The tab's controls that are not settings: batch files, loaders, the Output tools and the results column."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deforum.ui import actions, tools_panel
from deforum.ui.components import js_kwargs
from deforum.ui.host import TabHost

SUBMIT_JS = "submit_deforum"


def _batch(gr: Any, host: TabHost) -> dict[str, Any]:
    """Batch mode: render each uploaded settings file in turn."""
    enabled = gr.Checkbox(label="Enable batch mode", value=False, elem_id="deforum_override_settings",
                          info="render each settings file below, one after another (the panels are ignored)")
    files = gr.File(label="Setting files", file_count="multiple", file_types=[".txt", ".json"],
                    elem_id="deforum_custom_settings_file", visible=False, interactive=True)
    return {"batch_enabled": enabled, "batch_files": files}


def _init_image_box(gr: Any, host: TabHost) -> dict[str, Any]:
    """An upload box for the init picture; when filled it is used instead of the init image path."""
    del host
    box = gr.Image(label="Init image box (used instead of the path above when filled)", type="filepath",
                   elem_id="deforum_init_image_box", interactive=True, height=256)
    return {"init_image_box": box}


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
        fps = gr.Number(label="Frames per second", value=15, elem_id="deforum_ftv_fps")
        soundtrack = gr.Textbox(label="Soundtrack (optional)", value="", elem_id="deforum_ftv_soundtrack")
    button = gr.Button("Stitch frames to video", elem_id="deforum_ftv_button")
    result = gr.HTML(elem_id="deforum_ftv_result")
    button.click(fn=_run_tool(host.tools.frames_to_video, "Video written"), inputs=[path, fps, soundtrack],
                 outputs=[result])
    return {"ftv_button": button}


WIDGETS: dict[str, Callable[[Any, TabHost], dict[str, Any]]] = {
    "batch": _batch, "init_image_box": _init_image_box, "video_settings": _video_settings,
    "frames_to_video": _frames_to_video, "interpolate_tool": tools_panel.interpolate_tool,
    "upscale_tool": tools_panel.upscale_tool, "vid2depth": tools_panel.vid2depth_tool,
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
