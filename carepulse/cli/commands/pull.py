"""``carepulse pull --account HANDLE ...``: fetch brand accounts' threads from the X API v2 and load them.

The work is done by :mod:`carepulse.etl.twitter_api`; this module reads the options, turns the first Ctrl-C
into "stop after the current request, then load what was fetched" (a second Ctrl-C aborts and
publishes nothing) and prints what happened. ``docs/pull.md`` describes setup and costs.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from carepulse.cli import COMMANDS, add_db_option
from carepulse.cli.commands.ingest import print_report
from carepulse.cli.running import first_ctrl_c_stops, stamp

if TYPE_CHECKING:
    from carepulse.core.errors import SourceError
    from carepulse.etl.twitter_api.puller import PullReport


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "pull", help=COMMANDS["pull"],
        description="Fetch mentions, the account's own tweets and their conversations from the X API v2, keep "
                    "the raw pages as JSONL and load them. See docs/pull.md.",
    )
    parser.add_argument("--account", action="append", required=True, metavar="HANDLE",
                        help="brand handle to pull (repeat for several)")
    parser.add_argument("--since", default=None, metavar="DATE",
                        help="on the first pull of an account, start here (YYYY-MM-DD or ISO time, UTC); "
                             "later pulls continue from the newest tweet already fetched")
    parser.add_argument("--max-requests", type=int, default=None, metavar="N",
                        help="send at most N API requests in this command (reads are billed)")
    parser.add_argument("--every", default=None, metavar="INTERVAL",
                        help="keep pulling every INTERVAL (30s, 5m, 1h) until Ctrl-C")
    add_db_option(parser)
    parser.add_argument("--raw-dir", type=Path, default=None, metavar="DIR",
                        help="where raw pages are kept (default: raw/ beside the warehouse, i.e. data/raw)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported when the command runs, not with the module: only pull needs tweepy, requests and oauthlib,
    # and --help and argument errors do without them and the loader (start-up time, about 0.2 s).
    from carepulse.core.config import load_settings
    from carepulse.core.errors import ConfigError
    from carepulse.etl.twitter_api.client import make_client
    from carepulse.etl.twitter_api.puller import Puller, parse_interval, parse_since
    from carepulse.warehouse import Warehouse

    settings = load_settings(Path(args.config) if args.config else None, db=args.db)
    since = parse_since(args.since) if args.since else None
    interval = parse_interval(args.every) if args.every else None
    if not settings.twitter_bearer_token:
        raise ConfigError("no Twitter bearer token: set TWITTER_BEARER_TOKEN "
                          "(or [twitter] bearer_token in the untracked carepulse.local.toml)")
    stop = threading.Event()
    puller = Puller(
        Warehouse(settings.db), settings, make_client(settings.twitter_bearer_token), args.account,
        args.raw_dir or settings.db.parent / "raw", since=since, max_requests=args.max_requests,
        sleep=stop.wait, should_stop=stop.is_set,
    )

    def show(report: PullReport) -> None:
        print_pull(report, settings.db, puller.budget_left, stamped=interval is not None)

    def show_error(exc: SourceError) -> None:
        print(f"{stamp()} error: {exc}; trying again at the next interval", file=sys.stderr, flush=True)

    with first_ctrl_c_stops(stop, "stopping after the current request and loading what was fetched; Ctrl-C again "
                                  "to abort without loading"):
        if interval is None:
            show(puller.run_once())
        else:
            print(f"pulling every {args.every} until Ctrl-C", file=sys.stderr, flush=True)
            puller.run_every(interval, show, show_error)
    if stop.is_set():
        print("stopped", file=sys.stderr)
        return 0 if interval is not None else 130
    return 0


def print_pull(report: PullReport, db: Path, budget_left: int | None, *, stamped: bool = False) -> None:
    """What was fetched per account and endpoint, whether the cursors moved, then the load's accounting."""
    prefix = f"{stamp()} " if stamped else ""
    for endpoint in report.endpoints:
        print(f"{prefix}pull {endpoint.line()}")
    if report.complete:
        state = "complete, cursors advanced" if report.cursors else "complete, nothing new"
    else:
        why = {"budget": "the request budget is spent", "interrupt": "stopped by Ctrl-C",
               "error": "an API error"}.get(report.stopped_by or "", "stopped")
        state = f"stopped early ({why}): cursors not advanced, the next pull fetches that range again"
    budget = f", {budget_left} left of the budget" if budget_left is not None else ""
    print(f"{prefix}{report.requests} requests{budget}; {len(report.files)} raw files; {state}")
    if report.load is not None:
        print_report(report.load, db)
    sys.stdout.flush()
