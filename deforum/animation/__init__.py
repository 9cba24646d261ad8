"""Deforum animation package."""
