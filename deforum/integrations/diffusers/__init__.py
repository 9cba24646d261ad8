"""Standalone diffusion.

checkpoint loading, samplers, noise, prompts, the sampling loop and the diffusers ModelService.
"""

__all__ = [
    "control_images", "controlnet", "export", "images", "loading", "noise", "parts", "prompts", "samplers",
    "sampling", "service", "testing", "tokenizer"
]
