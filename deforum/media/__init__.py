"""Deforum media package."""
