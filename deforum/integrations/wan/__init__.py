"""Wan 2.1 video generation: prompt schedule to clips, camera motion to words, diffusers' Wan pipelines.

Importing this package loads no torch or diffusers; they are imported when a pipeline is loaded or called.
"""

from deforum.integrations.wan.models import WanModel, WanModelError, WanModelMissing, WanModels, select_models
from deforum.integrations.wan.plan import WanClip, WanPlan, format_plan, frames_4n1, plan_clips
from deforum.integrations.wan.render import render_wan

__all__ = [
    "WanClip", "WanModel", "WanModelError", "WanModelMissing", "WanModels", "WanPlan", "format_plan", "frames_4n1",
    "plan_clips", "render_wan", "select_models",
]
