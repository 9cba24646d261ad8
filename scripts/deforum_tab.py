"""WebUI loader shim: the WebUI imports scripts/*.py only, so this file loads the extension's deforum.py."""

import importlib.util
import sys
from pathlib import Path

_ENTRY = Path(__file__).resolve().parent.parent / "deforum.py"
sys.path.insert(0, str(_ENTRY.parent))
_spec = importlib.util.spec_from_file_location("deforum_extension_entry", _ENTRY)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
