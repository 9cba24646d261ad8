"""Animation maths.

the safe expression evaluator, schedules and their vectorised series, seeds, music variables, 2D/3D warps and
cameras, Camera Shakify.
"""

__all__ = [
    "audio_schedule", "camera", "camera3d", "depth_z", "expressions", "keys", "motion", "movement", "schedule_cli",
    "schedule_parse", "schedules", "seeds", "shakify", "variables", "warp2d", "warp3d"
]
