"""Stub of modules.paths: the models folder (tests point it at a temporary folder)."""

import os

script_path = os.getcwd()
models_path = os.path.join(script_path, "models")
