"""``python -m provkernel`` is the command-line interface."""

import sys

from provkernel.cli import main

sys.exit(main())
