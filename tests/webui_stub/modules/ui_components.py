"""Stub of modules.ui_components."""


class DropdownMulti:
    """Stand-in for the WebUI's multi-select dropdown."""
