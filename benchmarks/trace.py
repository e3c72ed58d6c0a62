"""Where a carepulse command spends its DuckDB time: every statement timed by the line of carepulse that ran it.

    python -m benchmarks.trace [--top N] [--each-publish] -- ingest twcs batch.csv --db warehouse.duckdb

The command runs in this process (``carepulse.cli.main``); DuckDB's connection and relation methods are wrapped
so each call is timed and charged to the innermost carepulse frame on the stack. Relations count too: a
``con.sql(...)`` builds a relation without running it, and its statement runs when a result is asked of it
(``to_arrow_table``, ``fetchall``, ``fetchnumpy``...). A tracer that timed only ``execute`` missed exactly those
(RESULTS.md, "What a load reads of the base, traced whole": the largest statement of a load that grows with the
base was one of them).

``--each-publish`` prints and restarts the table at every publish of a load (the delta copy's commit), so a
resident loader (``ingest --watch``) shows one table per file. Times are wall times of the calls as the calling
thread saw them; calls on several threads at once (the metrics' concurrent statements) add up to more than the
command's wall time.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import duckdb

import carepulse

CONNECTION_METHODS = ("execute", "executemany", "sql", "query", "read_csv", "fetchall", "fetchone", "fetchmany",
                      "fetchnumpy", "fetchdf", "df", "arrow", "fetch_arrow_table", "commit", "rollback", "begin")
RELATION_METHODS = ("to_arrow_table", "arrow", "fetchall", "fetchone", "fetchmany", "fetchnumpy", "fetchdf", "df",
                    "pl", "to_table", "insert_into", "create", "execute", "show")
PUBLISH_FRAME = "_commit_into_file"
"""The writer function whose commit ends a load into the delta copy (warehouse.store): ``--each-publish``."""


@dataclass
class Site:
    calls: int = 0
    seconds: float = 0.0
    statement: str = ""


@dataclass
class Tracer:
    """Timed calls by call site; thread-safe (the metrics run statements on several threads)."""

    sites: dict[str, Site] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_publish: Callable[[], None] | None = None

    def record(self, where: str, seconds: float, statement: str) -> None:
        with self.lock:
            site = self.sites.setdefault(where, Site())
            site.calls += 1
            site.seconds += seconds
            if statement:
                site.statement = statement

    def table(self, top: int) -> str:
        with self.lock:
            sites = sorted(self.sites.items(), key=lambda kv: -kv[1].seconds)
            total = sum(s.seconds for _, s in sites)
            calls = sum(s.calls for _, s in sites)
        lines = [f"DuckDB calls: {total * 1000:,.1f} ms in {calls:,} calls"]
        for where, site in sites[:top]:
            lines.append(f"{site.seconds * 1000:9.1f} ms {site.calls:5d}x  {where}  {site.statement}")
        return "\n".join(lines)

    def reset(self) -> None:
        with self.lock:
            self.sites.clear()


PACKAGE = os.path.dirname(os.path.abspath(carepulse.__file__)) + os.sep
ROOT = os.path.dirname(PACKAGE.rstrip(os.sep)) + os.sep


def call_site(kind: str, name: str) -> str:
    """``carepulse/path.py:line function kind.method`` of the innermost frame in the carepulse package (else the
    caller's: a benchmark's own statement)."""
    caller = sys._getframe(2)
    frame: Any = caller
    while frame is not None and not frame.f_code.co_filename.startswith(PACKAGE):
        frame = frame.f_back
    chosen = frame or caller
    path = chosen.f_code.co_filename
    short = path[len(ROOT):] if path.startswith(ROOT) else os.path.basename(path)
    return f"{short}:{chosen.f_lineno} {chosen.f_code.co_name} {kind}.{name}"


def _wrap(tracer: Tracer, cls: type, kind: str, name: str) -> Callable[[], None]:
    original = getattr(cls, name)

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        where = call_site(kind, name)
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            text = args[0] if args and isinstance(args[0], str) else ""
            tracer.record(where, time.perf_counter() - started, " ".join(text.split())[:90])
            if tracer.on_publish is not None and PUBLISH_FRAME in where and text.strip().upper() == "COMMIT":
                tracer.on_publish()

    setattr(cls, name, timed)
    return lambda: setattr(cls, name, original)


def install(tracer: Tracer) -> Callable[[], None]:
    """Wrap DuckDB's methods; returns the function that puts them back."""
    undo = [_wrap(tracer, duckdb.DuckDBPyConnection, "con", n) for n in CONNECTION_METHODS
            if hasattr(duckdb.DuckDBPyConnection, n)]
    undo += [_wrap(tracer, duckdb.DuckDBPyRelation, "rel", n) for n in RELATION_METHODS
             if hasattr(duckdb.DuckDBPyRelation, n)]

    def uninstall() -> None:
        for put_back in undo:
            put_back()

    return uninstall


def trace(command: Sequence[str], *, top: int = 25, each_publish: bool = False, out: TextIO = sys.stderr) -> int:
    """Run ``carepulse <command>`` here with every DuckDB call timed; print the table(s) to ``out``."""
    from carepulse.cli import main

    tracer = Tracer()
    if each_publish:
        def publish() -> None:
            print(tracer.table(top), file=out, flush=True)
            tracer.reset()

        tracer.on_publish = publish
    uninstall = install(tracer)
    started = time.perf_counter()
    try:
        code = main(list(command))
    finally:
        uninstall()
    print(f"command: {time.perf_counter() - started:.3f} s (exit {code})", file=out)
    print(tracer.table(top), file=out, flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     usage="python -m benchmarks.trace [--top N] [--each-publish] -- COMMAND ...")
    parser.add_argument("--top", type=int, default=25, help="call sites to list (default 25)")
    parser.add_argument("--each-publish", action="store_true",
                        help="a table per published load (a resident loader: one per file)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the carepulse command and its arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the carepulse command after --, e.g. -- metrics --by account")
    return trace(command, top=args.top, each_publish=args.each_publish)


if __name__ == "__main__":
    # as carepulse's own command does (carepulse.cli.run): a load closes its DuckDB on a daemon thread, and an
    # interpreter torn down around that thread aborts the process
    exit_code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
