"""The ``carepulse`` command. Each subcommand lives in ``carepulse/commands/<name>.py``.

A subcommand module exposes ``register(subparsers)``, which adds its parser and sets ``func``; its line
in the list of commands is in :data:`COMMANDS`.
Domain errors (:class:`carepulse.core.errors.CarepulseError`) become one line on stderr and the
error's exit code. As a last resort, an OSError, MemoryError or DuckDB error that escapes a command
(disk full, out of memory, a damaged file where no code expected one) becomes one line too, with
exit code 2: a user can act on "no space left on device", not on a 25-line traceback. ``-v`` logs
the traceback after that line for debugging. Anything else is a bug and keeps its traceback.

Start-up is lazy: when the command line names a subcommand, only that subcommand's module is
imported and registered, so ``carepulse metrics`` does not pay for tweepy, requests or Dash (about 0.1 s).
A subcommand module imports what its command needs (settings, DuckDB, the loader, tweepy, Dash) inside
the functions that run it, so ``carepulse ingest twcs --help`` or a mistyped option answers without
loading the warehouse code (``users`` excepted: its help lists the roles, declared beside the user store).
``carepulse --help``, ``--version`` and a command line naming no subcommand list every subcommand by its
line in :data:`COMMANDS` without importing it. ``tests/cli/test_startup.py`` holds the commands to that.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from carepulse import __version__
from carepulse.core.native import CLOSING_THREAD, one_blas_thread

one_blas_thread()  # before any command imports numpy: carepulse.core.native says why

# Each subcommand and its line in ``carepulse --help``; the command's module registers its parser with that line.
COMMANDS: dict[str, str] = {
    "ingest": "load tweet files or CRM exports into the warehouse",
    "metrics": "headline figures: response, resolution, cost, satisfaction",
    "report": "the weekly management report (PDF or HTML, two A4 pages)",
    "demo": "generate a simulated pilot, load it and open the dashboard",
    "serve": "serve the dashboard (Pilot, Team, Explore, Data)",
    "pull": "live pull from the Twitter/X API v2 (bearer token from $TWITTER_BEARER_TOKEN)",
    "users": "dashboard logins: add, list, remove users, change a role",
    "erase": "erase one customer: tweets, threads, CRM cases, raw pages (GDPR Art. 17)",
    "lake": "the warehouse as Parquet for Spark and other engines (docs/scale.md)",
    "compact": "fold the delta of small loads into a new base file now (docs/warehouse.md)",
    "backup": "copy the warehouse (base and delta) consistently to a backup file",
}
def add_db_option(parser: argparse.ArgumentParser) -> None:
    """``--db``: the warehouse a command reads or writes (one wording for every command)."""
    parser.add_argument("--db", type=Path, default=None,
                        help="warehouse file (default data/carepulse.duckdb, $CAREPULSE_DB)")


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
    # Naming no subcommand anywhere (--help, --version, a typo), the arguments cannot reach a subcommand's
    # parser: each is listed by its line alone, its module found but not imported (start-up time).
    listing_only = argv is not None and chosen is None and not any(arg in COMMANDS for arg in argv)
    for name in (chosen,) if chosen else COMMANDS:
        if listing_only:
            if importlib.util.find_spec(f"carepulse.cli.commands.{name}") is not None:
                sub.add_parser(name, help=COMMANDS[name])
            continue
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
    # Imported once the arguments parsed: --help and argument errors do without them (start-up time).
    import logging

    from carepulse.core.errors import CarepulseError, describe_failure, first_line, is_runtime_failure

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


def run() -> NoReturn:
    """The ``carepulse`` command and ``python -m carepulse.cli``: :func:`main`, then leave at once.

    Tearing the interpreter down after a command (a last garbage collection over every object, then
    numpy's, pyarrow's and DuckDB's modules freed one by one) took 40 to 70 ms, a tenth of a small load.
    Everything a command writes is written and closed by then (warehouse files are published by rename,
    exports and reports by their writers), so the process flushes its output and the logging handlers, runs
    the exit handlers registered with :mod:`atexit` (a Spark session stops in one), and exits without the
    rest. While a thread that is not a daemon still runs, it exits as usual, which waits for that thread; a
    thread only freeing a finished DuckDB (:data:`~carepulse.core.native.CLOSING_THREAD`) is not waited for.
    Tests call :func:`main` and keep their interpreter.
    """
    code = main()
    if any(t is not threading.main_thread() and not t.daemon and t.name != CLOSING_THREAD
           for t in threading.enumerate()):
        sys.exit(code)
    import atexit
    import logging

    logging.shutdown()
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # a reader (``| head``) that left early: nothing more to say to it
        pass
    os._exit(code)


if __name__ == "__main__":
    run()
