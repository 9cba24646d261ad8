"""`python -m deforum.integrations.api`: the standalone API server (same options as `deforum serve`)."""

import sys

from deforum.cli.serve import main_serve

sys.exit(main_serve())
