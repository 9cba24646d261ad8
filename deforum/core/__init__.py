"""Deforum core package."""
