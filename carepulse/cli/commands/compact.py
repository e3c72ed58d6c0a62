"""``carepulse compact``: fold the delta of small loads into a new base file now.

Small loads write only a delta beside the base (docs/warehouse.md, "Snapshots"), and a load folds the delta in
by itself once it passes its share of the base. This folds it at once: before a backup tool that copies one
file, or when a load reported that it could not compact. Readers keep answering meanwhile; a load waits.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from carepulse.cli import COMMANDS, add_db_option


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("compact", help=COMMANDS["compact"], description=COMMANDS["compact"] + ".")
    add_db_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported when the command runs (start-up time).
    from carepulse.core.config import load_settings
    from carepulse.core.errors import DataError
    from carepulse.warehouse import Warehouse

    settings = load_settings(Path(args.config) if args.config else None, db=args.db)
    warehouse = Warehouse(settings.db)
    if not warehouse.exists():
        raise DataError(f"no warehouse at {settings.db}: nothing to compact")
    if warehouse.compact():
        print(f"{settings.db}: the delta is folded into a new base ({settings.db.stat().st_size / 2**20:,.1f} MB)")
    else:
        print(f"{settings.db}: no delta, nothing to fold")
    return 0
