"""WebUI entry: mount Deforum (loaded by scripts/deforum_tab.py; the WebUI only loads scripts/*.py)."""

from __future__ import annotations

import logging

from deforum_extend_paths import extend_paths

extend_paths()
log = logging.getLogger("deforum")
if not log.handlers:  # the WebUI leaves the root logger at WARNING: show Deforum's progress notes in its console
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("Deforum: %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False

try:
    from deforum.integrations.webui import mount

    mount()
except ImportError as err:
    log.error("Deforum: the WebUI tab cannot load (%s). Run the WebUI once without --skip-install so install.py "
              "adds the missing packages; the command line works meanwhile: python -m deforum --help", err)
