"""The Deforum WebUI tab, generated from the settings metadata (gradio is imported only when the tab is built)."""
