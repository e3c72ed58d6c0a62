"""``carepulse lake export``: the warehouse's tables as a lake of Hive-partitioned Parquet.

A lake is what engines beyond one DuckDB file read (``carepulse metrics --lake DIR --engine spark``);
its layout and how to move it to Iceberg or Delta are in docs/scale.md. Like ``ingest``, the command
prints its accounting (rows, months, files and bytes per table) and any failure as one ``error:`` line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from carepulse.core.config import load_settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("lake", help="the warehouse as Parquet for Spark and other engines (docs/scale.md)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write the warehouse's tables as Hive-partitioned Parquet by month",
                                description="Write tweets, threads, CRM cases and the small tables the metrics "
                                            "read as Parquet, partitioned by month and sorted; a lake already "
                                            "at --out is replaced once the new one is complete.")
    export.add_argument("--db", type=Path, default=None, help="warehouse file (default from settings)")
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="the lake directory")
    export.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from carepulse.warehouse.lake import export

    settings = load_settings(Path(args.config) if args.config else None, db=args.db)
    report = export(settings.db, args.out)
    for line in report.lines():
        print(line, file=sys.stdout)
    return 0
