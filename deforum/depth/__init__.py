"""Deforum depth package."""
