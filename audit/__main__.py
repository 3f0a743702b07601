"""``python -m audit`` runs the ``prune-audit`` command line."""

import sys

from .cli import main

sys.exit(main())
