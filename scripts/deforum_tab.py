"""WebUI loader shim: the WebUI imports scripts/*.py only, so this file runs the extension's deforum.py."""

import importlib.util
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
_spec = importlib.util.spec_from_file_location("deforum_extension_entry", _ROOT / "deforum.py")
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
