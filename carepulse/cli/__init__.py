"""The ``carepulse`` command. Each subcommand lives in ``carepulse/commands/<name>.py``.

A subcommand module exposes ``register(subparsers)``, which adds its parser and sets ``func``.
Domain errors (:class:`carepulse.core.errors.CarepulseError`) become one line on stderr and the
error's exit code. As a last resort, an OSError, MemoryError or DuckDB error that escapes a command
(disk full, out of memory, a damaged file where no code expected one) becomes one line too, with
exit code 2: a user can act on "no space left on device", not on a 25-line traceback. ``-v`` logs
the traceback after that line for debugging. Anything else is a bug and keeps its traceback.

Start-up is lazy: when the command line names a subcommand, only that subcommand's module is
imported, so ``carepulse metrics`` does not pay for tweepy, requests or Dash (about 0.1 s).
``carepulse --help`` and unknown commands still import every subcommand to list them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from carepulse import __version__
from carepulse.core.errors import CarepulseError, describe_failure, first_line, is_runtime_failure

COMMANDS = ("ingest", "metrics", "report", "demo", "serve", "pull", "users", "erase", "lake")
RUNTIME_FAILURE_EXIT = 2  # as a DataError: the command could not do its work, nothing was published
# Global options that take a value: their value is not the subcommand's name.
_VALUE_OPTIONS = ("--config",)


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand the arguments name, if any (skipping global options and their values)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--":
            return None
        if arg in _VALUE_OPTIONS:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        return arg if arg in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a subcommand, only that subcommand is registered."""
    parser = argparse.ArgumentParser(
        prog="carepulse",
        description="Analytics and customer-satisfaction dashboard for customer service on Twitter/X.",
    )
    parser.add_argument("--version", action="version", version=f"carepulse {__version__}")
    parser.add_argument("--config", type=str, default=None, help="settings file (TOML); default ./carepulse.toml")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _chosen_command(argv) if argv is not None else None
    for name in (chosen,) if chosen else COMMANDS:
        try:
            module = importlib.import_module(f"carepulse.cli.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"carepulse.cli.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def _one_line(message: str) -> str:
    """The message on one line: some libraries' messages quoted in ours (openpyxl's, DuckDB's) span several."""
    return " ".join(line.strip() for line in message.strip().splitlines() if line.strip())


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    import logging

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        result = args.func(args)
    except CarepulseError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: nothing was published", file=sys.stderr)
        return 130
    except Exception as exc:
        if not is_runtime_failure(exc):
            raise
        print(f"error: {_one_line(describe_failure(exc) or first_line(exc))}", file=sys.stderr)
        if args.verbose:
            logging.getLogger("carepulse").error("the traceback of the error above", exc_info=exc)
        return RUNTIME_FAILURE_EXIT
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
