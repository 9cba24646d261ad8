"""Deforum integrations package."""
