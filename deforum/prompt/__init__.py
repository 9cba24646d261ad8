"""Deforum prompt package."""
