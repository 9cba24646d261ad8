"""Stub of modules.devices."""

device = "cpu"
