"""Entry point for `python -m deforum`."""

import sys

from deforum.cli import main

sys.exit(main())
