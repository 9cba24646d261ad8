"""The Output panel's tools on uploaded files: interpolate a video or pictures, upscale a video, vid2depth."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from deforum.ui import actions
from deforum.ui.host import TabHost

DEFAULT_DEPTH = "Depth-Anything-V2-Small"
THRESHOLDING = ("None", "Simple", "Simple (Auto-value)", "Adaptive (Mean)", "Adaptive (Gaussian)")
UPSCALE_MODELS = ("realesr-animevideov3", "realesrgan-x4plus", "realesrgan-x4plus-anime")
VIDEO_TYPES = [".mp4", ".mov", ".webm", ".mkv", ".avi", ".gif"]
PICTURE_TYPES = [".png", ".jpg", ".jpeg", ".webp", ".bmp"]


def chosen(upload: Any, typed: str) -> list[str]:
    """The uploaded file(s), else the typed path (a video, frames folder or %09d pattern)."""
    files = actions.file_names(upload if isinstance(upload, list) else [upload] if upload else [])
    return files or ([typed.strip().strip('"')] if typed and typed.strip() else [])


def facts_text(host: TabHost, paths: Sequence[str]) -> tuple[str, str, str]:
    """In frame count, in FPS and resolution of the chosen input ("-" when unknown or unreadable)."""
    if not paths or host.tools.video_facts is None:
        return "-", "-", "-"
    try:
        facts = host.tools.video_facts(list(paths))
    except (ValueError, OSError, RuntimeError):
        return "-", "-", "-"
    fps = f"{facts.fps:g}" if facts.fps else "-"
    return str(facts.frames), fps, f"{facts.width}x{facts.height}"


def _source(gr: Any, host: TabHost, name: str, label: str, types: list[str], many: bool = False) -> tuple[Any, ...]:
    """An upload box, a path box and the read-outs that fill in when a file is chosen."""
    upload = gr.File(label=label, file_count="multiple" if many else "single", file_types=types,
                     elem_id=f"deforum_{name}_upload", interactive=True)
    typed = gr.Textbox(label="...or a path on the server", value="", elem_id=f"deforum_{name}_source")
    with gr.Row():
        readouts = tuple(gr.Textbox(label=text, value="-", interactive=False, elem_id=f"deforum_{name}_{key}")
                         for key, text in (("frames", "In frame count"), ("fps", "In FPS"), ("res", "In resolution")))
    for trigger in (upload.change, typed.blur):
        trigger(fn=lambda up, path: facts_text(host, chosen(up, path)), inputs=[upload, typed],
                outputs=list(readouts), queue=False)
    return upload, typed


def _tool(run: Callable[..., str], done: str) -> Callable[..., str]:
    """A tool's click handler on (upload, typed path, *options): the result or the error as a message."""

    def handler(upload: Any, typed: str, *options: Any) -> str:
        """Run the tool on the chosen input."""
        paths = chosen(upload, typed)
        if not paths:
            return actions.message("Choose a file (or type a path) first.", error=True)
        try:
            return actions.message(f"{done}: {run(paths, *options)}")
        except (ValueError, OSError, RuntimeError) as err:
            return actions.message(str(err), error=True)

    return handler


def interpolate_tool(gr: Any, host: TabHost) -> dict[str, Any]:
    """Frame interpolation (RIFE/FILM) of an uploaded video, or of uploaded pictures in name order."""
    with gr.Row():
        engine = gr.Dropdown(label="Interpolation engine", choices=["RIFE v4.6", "FILM"], value="RIFE v4.6",
                             elem_id="deforum_tool_engine")
        amount = gr.Slider(label="Multiply frames by", minimum=2, maximum=10, step=1, value=2, elem_id="deforum_tool_x")
        slow_mo = gr.Slider(label="Slow down by (1 = off)", minimum=1, maximum=10, step=1, value=1,
                            elem_id="deforum_tool_slow_mo")
        keep = gr.Checkbox(label="Keep interpolated frames", value=True, elem_id="deforum_tool_keep_imgs")
    fps = gr.Number(label="FPS of the pictures (videos: read from the file)", value=15, elem_id="deforum_tool_fps")
    result = gr.HTML(elem_id="deforum_tool_result")
    options = [engine, amount, slow_mo, keep, fps]
    with gr.Tab("Video"):
        video = _source(gr, host, "interp_vid", "Video to interpolate", VIDEO_TYPES)
        vid_button = gr.Button("Interpolate Video", elem_id="deforum_tool_interpolate")
    with gr.Tab("Pictures"):
        pics = _source(gr, host, "interp_pics", "Pictures to interpolate (in name order)", PICTURE_TYPES, many=True)
        pics_button = gr.Button("Interpolate Pics", elem_id="deforum_tool_interpolate_pics")
    run = _tool(host.tools.interpolate, "Video written")
    vid_button.click(fn=run, inputs=[*video, *options], outputs=[result])
    pics_button.click(fn=run, inputs=[*pics, *options], outputs=[result])
    return {"interpolate_button": vid_button, "interpolate_pics_button": pics_button}


def upscale_tool(gr: Any, host: TabHost) -> dict[str, Any]:
    """Real-ESRGAN upscaling of an uploaded video."""
    source = _source(gr, host, "upscale_vid", "Video to upscale", VIDEO_TYPES)
    with gr.Row():
        model = gr.Dropdown(label="Real-ESRGAN model", choices=list(UPSCALE_MODELS), value=UPSCALE_MODELS[0],
                            elem_id="deforum_tool_model")
        factor = gr.Dropdown(label="Scale by", choices=["x2", "x3", "x4"], value="x2",
                             elem_id="deforum_tool_factor")
        keep = gr.Checkbox(label="Keep upscaled frames", value=True, elem_id="deforum_tool_upscale_keep_imgs")
    button = gr.Button("Upscale Video", elem_id="deforum_tool_upscale")
    result = gr.HTML(elem_id="deforum_tool_upscale_result")
    button.click(fn=_tool(host.tools.upscale, "Video written"), inputs=[*source, model, factor, keep],
                 outputs=[result])
    return {"upscale_button": button}


def vid2depth_tool(gr: Any, host: TabHost) -> dict[str, Any]:
    """Depth maps of an uploaded video (or a typed image/folder path), with the original's map options."""
    source = _source(gr, host, "vid2depth", "Video to turn into depth maps", VIDEO_TYPES)
    with gr.Row():
        algorithm = gr.Dropdown(label="Vid2depth model", choices=list(host.choices.get("vid2depth", [DEFAULT_DEPTH])),
                                value=DEFAULT_DEPTH, elem_id="deforum_vid2depth_algorithm")
        weight = gr.Number(label="MiDaS weight (old blended models)", value=0.2, elem_id="deforum_vid2depth_weight")
        keep = gr.Checkbox(label="Keep depth frames", value=True, elem_id="deforum_vid2depth_keep_imgs")
    with gr.Row():
        thresholding = gr.Radio(label="Thresholding", choices=list(THRESHOLDING), value="None",
                                elem_id="deforum_vid2depth_thresholding")
        closer = gr.Checkbox(label="Closer is brighter", value=True, elem_id="deforum_vid2depth_closer")
    with gr.Row():
        low = gr.Slider(label="Threshold", minimum=0, maximum=255, step=1, value=127,
                        elem_id="deforum_vid2depth_threshold")
        high = gr.Slider(label="Threshold max", minimum=0, maximum=255, step=1, value=255,
                         elem_id="deforum_vid2depth_threshold_max")
        block = gr.Slider(label="Block size (odd)", minimum=3, maximum=99, step=2, value=11,
                          elem_id="deforum_vid2depth_block")
        c_value = gr.Number(label="C", value=2, elem_id="deforum_vid2depth_c")
        blur = gr.Slider(label="End blur", minimum=0, maximum=64, step=1, value=0, elem_id="deforum_vid2depth_blur")
    button = gr.Button("Get depth", elem_id="deforum_vid2depth_button")
    result = gr.HTML(elem_id="deforum_vid2depth_result")
    button.click(fn=_tool(host.tools.vid2depth, "Depth written to"),
                 inputs=[*source, algorithm, keep, weight, thresholding, low, high, block, c_value, closer, blur],
                 outputs=[result])
    return {"vid2depth_button": button}
