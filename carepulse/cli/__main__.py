"""``python -m carepulse.cli``: the same entry point as the ``carepulse`` command."""

import sys

from carepulse.cli import main

sys.exit(main())
