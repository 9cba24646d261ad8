"""Settings files and model files.

Load/save, legacy upgrades, overrides, load-time checks; the one weights lookup and first-use downloads.
"""

__all__ = [
    "catalog", "deprecations", "download", "fetch", "file_settings", "json_limits", "overrides", "render_limits",
    "schedule_check", "settings_io", "weights"
]
