"""The tab's help blocks (HTML): what a panel is for and how to use it, in this project's own words."""

from __future__ import annotations

HELP_BLOCKS: dict[str, str] = {
    "main": (
        "<p><b>Deforum</b> makes an animation one frame at a time: each new frame is the previous one moved by the "
        "camera settings, then lightly re-diffused with the prompt of that moment.</p>"
        "<ul><li><b>Run</b>: sampler, size, seed and the output folder's name.</li>"
        "<li><b>Keyframes</b>: the animation mode, frame count and every value that changes over time "
        "(motion, strength, noise, colour).</li>"
        "<li><b>Prompts</b>: what to draw from which frame on.</li>"
        "<li><b>Init</b>: start from a picture or a video, masks, and Parseq manifests.</li>"
        "<li><b>ControlNet</b>, <b>Hybrid Video</b>: guide the frames with other pictures or a video's motion.</li>"
        "<li><b>Output</b>: the video, upscaling, frame interpolation and the standalone video tools.</li></ul>"
        "<p>Values that change over time are <i>schedules</i>: <code>frame: (value)</code> pairs separated by "
        "commas, such as <code>0: (1.0), 60: (1.5)</code>. Between two frames the value moves in a straight line; a "
        "value may be a formula of <code>t</code> (the frame number), e.g. <code>0: (1 + 0.01*sin(t/10))</code>. "
        "Hover any setting for its allowed values and default; untick <i>Show more info</i> to hide the help lines."
        "</p><p>Try a motion first with <i>Motion preview mode</i>: it skips diffusion and is very quick. "
        "Settings files from the original extension and from the Forge fork load as they are.</p>"
    ),
    "prompts": (
        "<p>Each line of the JSON object is <code>\"frame\": \"prompt\"</code>; a prompt holds until the next "
        "one (Interpolation mode blends the two instead). A frame may be an expression of "
        "<code>max_f</code> (the frame count), e.g. <code>\"max_f/2\"</code>. Write a negative prompt after "
        "<code>--neg</code> in the same text. Maths between backticks is worked out per frame, with "
        "<code>t</code> the frame number: <code>(cat:`0.5+t/100`)</code> strengthens the cat as time goes on.</p>"
    ),
    "composable_masks": (
        "<p>A mask schedule says, per frame, where diffusion may change the picture. Build it from "
        "<code>{video_mask}</code> (the mask video), <code>{human_mask}</code> (people in the init video), "
        "mask picture files in square brackets, or words in angle brackets that a segmentation model finds "
        "(<code>&lt;a red car&gt;</code>); combine them with "
        "<code>&amp;</code> (and), <code>|</code> (or), <code>^</code> (either but not both), <code>\\</code> "
        "(minus) and <code>!</code> (not), grouping with parentheses.</p>"
    ),
    "guided_images": (
        "<p><b>How guided images work.</b> Give a few key pictures, each at a frame (an expression of "
        "<code>max_f</code> is fine). The animation starts from the first and is pulled a little towards the next "
        "one on every frame, so it arrives there on time. Use a strength schedule around 0.6 and cadence 1 for "
        "close matches; a higher blend factor pulls harder; more tweening frames make slower, smoother moves. "
        "The last picture may repeat the first to make a loop.</p>"
    ),
    "parseq": (
        "<p><a href='https://sd-parseq.web.app/' target='_blank'>Parseq</a> is a separate keyframe editor. "
        "Paste its manifest (or the manifest's URL) here and its values replace the matching schedules of "
        "these panels; the panels' values still apply to everything Parseq does not set. Leave the box empty "
        "to use the panels alone.</p>"
    ),
    "hybrid_video": (
        "<p>Hybrid video mixes an init video into a 2D or 3D animation: it can copy the video's camera motion "
        "(optical flow, perspective or affine), blend its frames into the rendered ones, and limit that blend "
        "with a depth, difference or blend mask. The video path and frame extraction settings are on "
        "Init &gt; Video Init. Only 2D and 3D modes use hybrid video.</p>"
    ),
    "depth_2d": (
        "<p>Depth warping moves a 3D camera through each frame's depth map: choose the 3D animation mode "
        "(Keyframes panel) to set it up here.</p>"
    ),
    "leres": (
        "<p>LeReS depth comes with its own licence, which forbids commercial use: check it before publishing "
        "work made with it.</p>"
    ),
    "frame_interpolation": (
        "<p>Frame interpolation invents frames between the rendered ones: <i>Interp X</i> 3 turns 30 frames into "
        "about 90. Keep the frame rate to get smoother motion, or tick Slow-Mo to play the new frames at the old "
        "rate. RIFE is fast; FILM copes better with large moves. The weights must already be in the models "
        "folder. The tools below do the same for any video or set of pictures you upload.</p>"
    ),
    "frames_to_video": (
        "<p>Turn a numbered sequence of pictures into an MP4: give the path with a <code>%09d</code> (or similar) "
        "placeholder for the frame number, such as <code>outputs/run/20240101_%09d.png</code>. The video is "
        "written next to the pictures, with the ffmpeg options of the WebUI's Deforum settings.</p>"
    ),
    "controlnet_missing": (
        "<p><b>The ControlNet extension is not installed</b>, so these units cannot run. Install "
        "<i>sd-webui-controlnet</i> from the Extensions tab and restart the WebUI; until then the unit settings "
        "are kept in settings files but unused, and the module and model boxes take free text.</p>"
    ),
}


def help_block(name: str) -> str:
    """The help block's HTML, in a div the stylesheet knows."""
    return f"<div class='deforum-help'>{HELP_BLOCKS[name]}</div>"
