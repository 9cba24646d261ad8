"""Spec tables: the five ControlNet units and the Forge fork's extra settings."""

from deforum.models.fields import (
    BOOL,
    CHOICE,
    FLOAT,
    INT,
    SCHEDULE,
    STR,
    F,
    FieldSpec,
)

CONTROLNET_UNITS = 5
CN_RESIZE_MODES = ("Inner Fit (Scale to Fit)", "Outer Fit (Shrink to Fit)", "Just Resize")
CN_CONTROL_MODES = ("Balanced", "My prompt is more important", "ControlNet is more important")


def _controlnet_unit(n: int) -> tuple[FieldSpec, ...]:
    """The 17 keys of ControlNet unit `n`, in the original's order."""
    p = f"cn_{n}_"
    return (
        F(p + "overwrite_frames", BOOL, True, title="Overwrite input frames",
          info="extract this unit's video frames again even when an earlier run left them"),
        F(p + "vid_path", STR, "", title="ControlNet input video/ image path",
          info="video, picture or folder this unit takes its guide from (empty: the frame being made)"),
        F(p + "mask_vid_path", STR, "", title="ControlNet input video/ image mask path",
          info="optional mask video or picture limiting where this unit guides"),
        F(p + "enabled", BOOL, False, title="Enable", info=f"use ControlNet unit {n} while rendering"),
        F(p + "low_vram", BOOL, False, title="Low VRAM", info="save graphics memory at some cost in speed"),
        F(p + "pixel_perfect", BOOL, False, info="let the preprocessor pick its resolution from the frame size"),
        F(p + "module", STR, "none", title="Preprocessor",
          info="how the guide picture is turned into a control map (edges, depth, pose...)"),
        F(p + "model", STR, "None", info="the ControlNet model that reads the control map"),
        F(p + "weight", SCHEDULE, "0:(1)", title="Weight schedule", info="how strongly this unit steers, per frame"),
        F(p + "guidance_start", SCHEDULE, "0:(0.0)", title="Starting control step schedule",
          info="share of the sampling steps after which this unit starts steering, per frame"),
        F(p + "guidance_end", SCHEDULE, "0:(1.0)", title="Ending control step schedule",
          info="share of the sampling steps after which this unit stops steering, per frame"),
        F(p + "processor_res", INT, 64, minimum=0, maximum=8192, title="Annotator resolution",
          info="resolution the preprocessor works at"),
        F(p + "threshold_a", FLOAT, 64, title="Parameter A",
          info="the preprocessor's first setting (its meaning depends on the preprocessor)"),
        F(p + "threshold_b", FLOAT, 64, title="Parameter B",
          info="the preprocessor's second setting (its meaning depends on the preprocessor)"),
        F(p + "resize_mode", CHOICE, "Inner Fit (Scale to Fit)", choices=CN_RESIZE_MODES,
          info="how a guide of another shape is fitted to the frame"),
        F(p + "control_mode", CHOICE, "Balanced", choices=CN_CONTROL_MODES,
          info="whether the prompt or the control map wins when they disagree"),
        F(p + "loopback_mode", BOOL, False, title="LoopBack mode",
          info="guide each frame with the previous rendered frame instead of the input video"),
    )


CONTROLNET_FIELDS: tuple[FieldSpec, ...] = tuple(
    spec for n in range(1, CONTROLNET_UNITS + 1) for spec in _controlnet_unit(n)
)
