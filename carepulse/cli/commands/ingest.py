"""``carepulse ingest twcs|jsonl|crm FILE...``: load files into the warehouse, nothing lost."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import TYPE_CHECKING

from carepulse.cli import COMMANDS, add_db_option

if TYPE_CHECKING:
    from carepulse.etl.loader import BatchReport


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ingest", help=COMMANDS["ingest"])
    kinds = parser.add_subparsers(dest="kind", metavar="SOURCE", required=True)

    twcs = kinds.add_parser("twcs", help="the 'Customer Support on Twitter' corpus layout (CSV)")
    twcs.add_argument("--account", action="append", default=[], metavar="HANDLE",
                      help="extra brand handle (TWCS marks brand tweets itself with inbound=False)")

    jsonl = kinds.add_parser("jsonl", help="Twitter API v2 responses as twarc2 writes them (JSONL)")
    jsonl.add_argument("--account", action="append", default=[], metavar="HANDLE",
                       help="a brand handle the team answers from (repeat for several); required once")

    crm = kinds.add_parser("crm", help="CRM case exports (CSV, XLSX or Parquet)")
    crm.add_argument("--mapping", type=Path, default=None, help="TOML mapping of the export's headers and values")

    for p in (twcs, jsonl, crm):
        what = p.add_mutually_exclusive_group(required=True)
        # default: this very list, which argparse hands back when no FILE is given, so --watch alone is no clash
        what.add_argument("files", nargs="*", type=Path, metavar="FILE", default=[])
        what.add_argument("--watch", type=Path, default=None, metavar="DIR",
                          help="instead of FILE...: stay up and load every file renamed into DIR, one transaction "
                               "each, in name order; loaded files move to DIR/loaded, rejected ones to DIR/failed "
                               "(the resident loader, docs/warehouse.md)")
        p.add_argument("--poll", type=float, default=None, metavar="SECONDS",
                       help="with --watch: how often DIR is looked at (default 0.05)")
        p.add_argument("--once", action="store_true", help="with --watch: load what DIR holds now, then stop")
        add_db_option(p)
        p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from carepulse.core.errors import ConfigError

    if args.watch is None and (args.poll is not None or args.once):
        raise ConfigError("--poll and --once go with --watch DIR")
    from carepulse.core.config import load_settings

    settings = load_settings(Path(args.config) if args.config else None, db=args.db)
    if args.kind == "jsonl" and not (args.account or settings.brand_accounts):
        raise ConfigError("ingest jsonl needs at least one --account HANDLE (or brand_accounts in the config)")
    if args.watch is None:
        from carepulse.cli.commands.ingest_handover import load_by_resident_loader

        code = load_by_resident_loader(args, settings)
        if code is not None:
            return code
    # Imported when the command loads, not with the module: --help, argument errors and a file handed to a
    # resident loader do without DuckDB, numpy, pyarrow and the loader (start-up time, about 0.15 s).
    from carepulse.etl.loader import ingest_crm, ingest_tweets
    from carepulse.warehouse import Warehouse

    # a resident loader keeps the base from load to load, and answers a load before it compacts the delta
    watching = args.watch is not None
    warehouse = Warehouse(settings.db, resident=watching, defer_compaction=watching)

    def load(files: list[Path]) -> BatchReport:
        if args.kind == "crm":
            return ingest_crm(warehouse, files, args.mapping, settings)
        return ingest_tweets(warehouse, args.kind, files, settings, accounts=args.account)

    if args.watch is not None:
        from carepulse.cli.commands.ingest_handover import terms
        from carepulse.cli.commands.ingest_watch import run_watch

        return run_watch(args, lambda file: load([file]), lambda report: report_text(report, settings.db),
                         idle=warehouse.release_stale, due=lambda: warehouse.compaction_due,
                         compact=warehouse.compact_if_due, db=settings.db, terms=terms(args, settings))
    print_report(load(list(args.files)), settings.db)
    return 0


def print_report(report: BatchReport, db: Path) -> None:
    print(report_text(report, db), end="", flush=True)


def report_text(report: BatchReport, db: Path) -> str:
    """The accounting lines every user sees: per file, then the warehouse after the load."""
    out = io.StringIO()
    for file_report in report.files:
        print(file_report.line(), file=out)
    totals = report.totals
    new = report.loaded
    print(
        f"warehouse {db}: {totals.get('tweets', 0):,} tweets, {totals.get('threads', 0):,} threads "
        f"({totals.get('answered_threads', 0):,} answered), {totals.get('brand_accounts', 0):,} brand accounts, "
        f"{totals.get('crm_cases', 0):,} CRM cases; {new:,} new records, "
        f"{report.conversations_rebuilt:,} conversations rebuilt in {report.seconds:.2f} s",
        file=out,
    )
    if report.links:
        print("CRM links: " + ", ".join(f"{k} {v:,}" for k, v in sorted(report.links.items())), file=out)
    for warning in report.warnings:
        print(f"warning: {warning}", file=out)
    quarantined = sum(f.quarantined for f in report.files)
    if quarantined:
        print(f"{quarantined:,} records quarantined with their reasons: see the quarantine table "
              "(or the dashboard's Data page)", file=out)
    return out.getvalue()
