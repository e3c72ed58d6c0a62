"""``carepulse backup DEST``: a consistent copy of the warehouse, base and delta, under the load lock.

The base (``<db>``) and the delta of small loads beside it (``<db>.delta``) belong together: a copy of the
base alone misses the loads since the last compaction, and two copies taken while a load publishes may not
match. This copies both while no load can publish, each to a temporary name renamed into place when whole.
Restore by copying ``DEST`` (and ``DEST.delta``, when written) back over the warehouse (docs/deployment.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from carepulse.cli import COMMANDS, add_db_option


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("backup", help=COMMANDS["backup"], description=COMMANDS["backup"] + ".")
    parser.add_argument("dest", type=Path, metavar="DEST", help="the backup file (its delta goes to DEST.delta)")
    add_db_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported when the command runs (start-up time).
    from carepulse.core.config import load_settings
    from carepulse.warehouse import Warehouse

    settings = load_settings(Path(args.config) if args.config else None, db=args.db)
    for path in Warehouse(settings.db).backup(args.dest):
        print(f"wrote {path} ({path.stat().st_size / 2**20:,.1f} MB)")
    return 0
