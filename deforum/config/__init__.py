"""Settings files: defaults, load/save, legacy upgrades and overrides."""
