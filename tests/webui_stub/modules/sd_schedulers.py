"""Stub of modules.sd_schedulers (WebUI v1.10's schedule types)."""

from types import SimpleNamespace

schedulers = [SimpleNamespace(label=label, name=label.lower().replace(" ", "_"))
              for label in ("Automatic", "Uniform", "Karras", "Exponential", "Simple", "Normal")]
