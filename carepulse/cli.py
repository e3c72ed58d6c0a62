"""The ``carepulse`` command. Each subcommand lives in ``carepulse/commands/<name>.py``.

A subcommand module exposes ``register(subparsers)``, which adds its parser and sets ``func``.
Domain errors (:class:`carepulse.errors.CarepulseError`) become one line on stderr and the
error's exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from carepulse import __version__
from carepulse.errors import CarepulseError

COMMANDS = ("ingest", "metrics", "demo", "serve", "pull")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carepulse",
        description="Analytics and customer-satisfaction dashboard for customer service on Twitter/X.",
    )
    parser.add_argument("--version", action="version", version=f"carepulse {__version__}")
    parser.add_argument("--config", type=str, default=None, help="settings file (TOML); default ./carepulse.toml")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"carepulse.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"carepulse.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        result = args.func(args)
    except CarepulseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: nothing was published", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
