"""The render.

frame plan, frame state, engine loop, run folders and resume, masks, motion preview, service protocols.
"""

__all__ = [
    "distribution", "engine", "frame_init", "frame_params", "frame_writer", "guided", "hybrid_source", "inputs",
    "mask_compose", "masking", "music", "plan", "preview", "redo", "resume", "run", "run_claim", "run_inputs",
    "schedule_view", "services", "sink", "state", "steps", "subtitles", "support"
]
