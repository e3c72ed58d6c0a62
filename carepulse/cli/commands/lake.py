"""``carepulse lake export`` and ``carepulse lake ingest``: a lake of Hive-partitioned Parquet.

A lake is what engines beyond one DuckDB file read (``carepulse metrics --lake DIR --engine spark``);
its layout and how to move it to Iceberg or Delta are in docs/scale.md. ``export`` writes a warehouse's
tables as one; ``ingest`` loads raw tweet files (threads rebuilt on DuckDB or Spark) and CRM exports straight into one,
with the accounting and quarantine of ``carepulse ingest``. Both print their accounting and any failure
as one ``error:`` line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from carepulse.cli import COMMANDS

if TYPE_CHECKING:
    from carepulse.core.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("lake", help=COMMANDS["lake"])
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write the warehouse's tables as Hive-partitioned Parquet by month",
                                description="Write tweets, threads, CRM cases and the small tables the metrics "
                                            "read as Parquet, partitioned by month and sorted; a lake already "
                                            "at --out is replaced once the new one is complete.")
    export.add_argument("--db", type=Path, default=None, help="warehouse file (default from settings)")
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="the lake directory")
    export.set_defaults(func=run_export)
    job = actions.add_parser("job", help="print the path of the spark-submit application (docs/scale.md)",
                             description="Print the path of carepulse's spark-submit entry point: "
                                         "spark-submit --master yarn \"$(carepulse lake job)\" lake ingest twcs "
                                         "FILE --lake DIR")
    job.set_defaults(func=run_job)
    ingest = actions.add_parser("ingest", help="load tweet files into a lake, threads rebuilt on DuckDB or Spark",
                                description="Load tweet files into the lake at --lake (created when missing) with "
                                            "the rules and accounting of carepulse ingest; the touched "
                                            "conversations' threads are rebuilt on --engine.")
    kinds = ingest.add_subparsers(dest="kind", metavar="SOURCE", required=True)
    for kind, text in (("twcs", "the 'Customer Support on Twitter' corpus layout (CSV)"),
                       ("jsonl", "Twitter API v2 responses as twarc2 writes them (JSONL)")):
        parser_kind = kinds.add_parser(kind, help=text)
        parser_kind.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser_kind.add_argument("--lake", type=Path, required=True, metavar="DIR", help="the lake directory")
        parser_kind.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                                 help="what rebuilds the threads: duckdb (default) or spark (carepulse[spark])")
        parser_kind.add_argument("--account", action="append", default=[], metavar="HANDLE",
                                 help="a brand handle (jsonl: required once; twcs marks brand tweets itself)")
        parser_kind.set_defaults(func=run_ingest)
    crm = kinds.add_parser("crm", help="CRM case exports (CSV, XLSX, Parquet), linked to the lake's threads")
    crm.add_argument("files", nargs="+", type=Path, metavar="FILE")
    crm.add_argument("--lake", type=Path, required=True, metavar="DIR", help="the lake directory")
    crm.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                     help="what reads the lake's threads for the links: duckdb (default) or spark")
    crm.add_argument("--mapping", type=Path, default=None, metavar="FILE.toml",
                     help="column and value mapping of the export (as for carepulse ingest crm)")
    crm.set_defaults(func=run_ingest_crm)


def run_job(args: argparse.Namespace) -> int:
    from carepulse.cli import spark_job

    print(spark_job.__file__, file=sys.stdout)
    return 0


def _settings(args: argparse.Namespace, db: Path | None = None) -> Settings:
    # Imported when a command runs, not with the module: the --help and argument errors of lake do without it
    # (start-up time).
    from carepulse.core.config import load_settings

    return load_settings(Path(args.config) if args.config else None, db=db)


def run_export(args: argparse.Namespace) -> int:
    from carepulse.warehouse.lake import export

    settings = _settings(args, db=args.db)
    report = export(settings.db, args.out)
    for line in report.lines():
        print(line, file=sys.stdout)
    return 0


def run_ingest_crm(args: argparse.Namespace) -> int:
    from carepulse.etl.lake_crm import ingest_crm_lake

    settings = _settings(args)
    report = ingest_crm_lake(args.lake, list(args.files), args.mapping, settings, engine=args.engine)
    for line in report.lines():
        print(line, file=sys.stdout)
    quarantined = sum(f.quarantined for f in report.files)
    if quarantined:
        print(f"{quarantined:,} records quarantined with their reasons: see the lake's quarantine table",
              file=sys.stdout)
    return 0


def run_ingest(args: argparse.Namespace) -> int:
    from carepulse.core.errors import ConfigError
    from carepulse.etl.lake_ingest import ingest_lake

    settings = _settings(args)
    if args.kind == "jsonl" and not (args.account or settings.brand_accounts):
        raise ConfigError("lake ingest jsonl needs at least one --account HANDLE (or brand_accounts in the config)")
    report = ingest_lake(args.lake, args.kind, list(args.files), settings, engine=args.engine, accounts=args.account)
    for line in report.lines():
        print(line, file=sys.stdout)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stdout)
    quarantined = sum(f.quarantined for f in report.files)
    if quarantined:
        print(f"{quarantined:,} records quarantined with their reasons: see the lake's quarantine table",
              file=sys.stdout)
    return 0
