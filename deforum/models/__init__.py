"""Frozen data: the settings model and the values passed between stages."""

from deforum.models.settings import FIELD_SPECS, Settings, SettingsError

__all__ = ["FIELD_SPECS", "Settings", "SettingsError"]
