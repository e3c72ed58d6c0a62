"""``carepulse report``: the two-page management report for a week, a month or the last weeks.

Everything is gathered and rendered by :mod:`carepulse.report`; this module parses arguments, picks the
output file and writes it atomically (a scheduled run never leaves half a PDF where a mail job picks it up).
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

from carepulse.cli import COMMANDS


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "report", help=COMMANDS["report"],
        description="Two A4 pages for management: does the pilot pay off, satisfaction, speed and the queue, "
                    "each with its change since the comparison period (better or worse, beyond noise or not), "
                    "weekly charts, the assumptions and the data coverage. See docs/report.md.",
    )
    p.add_argument("--period", required=True, metavar="PERIOD",
                   help="an ISO week (2026-W44), a month (2026-10) or LAST-4-WEEKS / LAST-7-DAYS "
                        "(counted back from the data's last day)")
    p.add_argument("--format", dest="fmt", choices=("pdf", "html"), default="pdf")
    p.add_argument("--out", type=Path, default=None,
                   help="output file (default ./carepulse-report-<period>.<format>)")
    p.add_argument("--db", type=Path, default=None, help="warehouse file (default from settings)")
    p.add_argument("--compare", choices=("previous", "year"), default="previous",
                   help="compare with the previous period (default) or the same period a year earlier")
    p.add_argument("--lang", dest="language", choices=("de", "en"), default=None,
                   help="language of the report's words and number formats (default: locale in carepulse.toml, "
                        "German unless set)")
    p.set_defaults(func=run)


def default_name(period: str, fmt: str) -> str:
    """``carepulse-report-2026-W44.pdf``: the period as typed, reduced to safe file-name characters."""
    safe = re.sub(r"[^A-Za-z0-9-]+", "-", period.strip().upper()).strip("-") or "period"
    return f"carepulse-report-{safe}.{fmt}"


def run(args: argparse.Namespace) -> int:
    # Imported when the command runs, not with the module: its --help and argument errors do without them
    # (start-up time).
    from carepulse.core.config import load_settings
    from carepulse.core.errors import ConfigError
    from carepulse.metrics.periods import parse_period

    settings = load_settings(Path(args.config) if args.config else None, db=args.db)
    from datetime import date

    parse_period(args.period, date.today())  # a malformed period fails before the warehouse is opened
    out = args.out or Path.cwd() / default_name(args.period, args.fmt)
    if out.is_dir():
        raise ConfigError(f"--out {out}: is a directory; name a file")
    from carepulse.report import render_report
    from carepulse.warehouse import Warehouse

    data = render_report(args.period, args.fmt, db=Warehouse(settings.db).reader(), settings=settings,
                         compare=args.compare, language=args.language)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        tmp.write_bytes(data)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    print(out)
    return 0
