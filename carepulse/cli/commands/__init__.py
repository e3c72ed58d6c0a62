"""Subcommands of the ``carepulse`` CLI, one module each (see :mod:`carepulse.cli`)."""
