"""Prompts: schedules, shared positive/negative, `--neg`, backtick maths, blending, the mask-expression parser."""

__all__ = ["blend", "mask_expressions", "schedule"]
