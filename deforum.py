"""WebUI entry: mount Deforum (loaded by scripts/deforum_tab.py; the WebUI only loads scripts/*.py)."""

from __future__ import annotations

import logging

from deforum_extend_paths import extend_paths

extend_paths()
log = logging.getLogger("deforum")

try:
    from deforum.integrations.webui import mount
except ImportError as err:
    log.error("Deforum: the WebUI tab is not available in this build (%s). The command line works: "
              "python -m deforum --help", err)
else:
    mount()
