"""Deforum ui package."""
