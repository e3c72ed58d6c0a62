"""``carepulse serve``: the dashboard over a warehouse, on 127.0.0.1:8050 unless told otherwise."""

from __future__ import annotations

import argparse
from pathlib import Path

from carepulse.cli import COMMANDS, add_db_option


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help=COMMANDS["serve"])
    add_db_option(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default 127.0.0.1: only this machine can connect)")
    parser.add_argument("--port", type=int, default=8050, help="port (default 8050; 0: a free one, printed)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="a further host name the dashboard answers to (a reverse proxy's name); repeatable, "
                             "also $CAREPULSE_ALLOWED_HOSTS")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported when the command runs, not with the module: its --help and argument errors do without them
    # (start-up time).
    from carepulse.core.config import load_settings
    from carepulse.core.errors import ConfigError, DataError

    settings = load_settings(Path(args.config) if args.config else None, db=args.db)
    if not settings.db.exists():
        raise DataError(f"no warehouse at {settings.db}: load data first (carepulse demo, or carepulse ingest ...)")
    if not 0 <= args.port < 65536:
        raise ConfigError(f"--port {args.port}: expected 0 to 65535")
    from carepulse.dashboard.app import serve

    serve(db=settings.db, host=args.host, port=args.port, settings=settings, allow_hosts=tuple(args.allow_host))
    return 0
