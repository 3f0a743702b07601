"""``python -m audit`` runs the ``prune-audit`` command line."""

import sys

from audit.cli import main

sys.exit(main())
