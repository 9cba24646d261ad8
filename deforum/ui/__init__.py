"""The Deforum WebUI tab, generated from the settings metadata (gradio is imported only when the tab is built)."""

__all__ = [
    "actions", "audio_panel", "components", "help_text", "host", "layout", "schedule_plot", "specs", "tab",
    "tools_panel", "values", "visibility", "widgets"
]
