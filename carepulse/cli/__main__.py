"""``python -m carepulse.cli``: the same entry point as the ``carepulse`` command."""

from carepulse.cli import run

run()
