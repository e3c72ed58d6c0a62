"""``carepulse erase --customer HANDLE``: erase one customer from the warehouse and the raw pull pages (GDPR Art. 17).

What goes, what is rewritten and why the published file is written afresh: :mod:`carepulse.etl.erase`. The
command asks before it erases (it cannot be undone, short of a backup), showing what it would remove;
``--yes`` skips the question for scripts. Without ``--yes`` and without a terminal to ask on it refuses: a
cron job that forgot ``--yes`` must fail loudly, not wait for an answer or guess one.

The erasure is recorded in the audit log (``<warehouse>.audit.sqlite``) with the OS user who ran it and the
counts, and a keyed hash in place of the handle (:mod:`carepulse.warehouse.audit` says why). The handle is
not printed back either: the terminal's scrollback and a script's log are records too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carepulse.cli import COMMANDS, add_db_option

if TYPE_CHECKING:
    from carepulse.etl.erase import ErasureReport

LABELS = {
    "tweets": "tweets of the customer",
    "brand_replies": "brand replies to them",
    "threads": "threads of the customer",
    "crm_cases": "CRM cases",
    "users": "Twitter user records",
    "quarantine": "quarantined records",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "erase", help=COMMANDS["erase"],
        description="Erase one customer by handle (case-insensitive, @ optional): their tweets and the brand "
                    "replies to them, their threads, CRM cases, Twitter user records and quarantined records; "
                    "rebuild the conversations they were in; delete the raw pull pages naming them. The "
                    "published warehouse is written afresh, so the deleted rows' bytes are gone from it. "
                    "See docs/security.md.")
    parser.add_argument("--customer", required=True, metavar="HANDLE", help="the customer's Twitter handle")
    add_db_option(parser)
    parser.add_argument("--raw-dir", type=Path, default=None,
                        help="the raw pull pages (default: raw/ beside the warehouse, as carepulse pull writes)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation (for scripts)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported when the command runs, not with the module: --help and argument errors do without DuckDB
    # and the loader (start-up time).
    from carepulse.core.config import load_settings
    from carepulse.core.errors import ConfigError, DataError
    from carepulse.etl import erase
    from carepulse.warehouse import Warehouse

    erase.customer_key(args.customer)  # a malformed handle is refused before anything else
    settings = load_settings(Path(args.config) if args.config else None, db=args.db)
    if not settings.db.exists():
        raise DataError(f"no warehouse at {settings.db}: nothing to erase")
    raw_dir = args.raw_dir or settings.db.parent / "raw"
    warehouse = Warehouse(settings.db)
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError("no terminal to confirm the erasure on: run again with --yes to erase without asking")
        planned = erase.preview(warehouse, args.customer, raw_dir)
        if planned.nothing:
            print("nothing to erase: no tweet, thread, CRM case, user record, quarantined record or raw pull page "
                  "names this customer (nothing was changed)")
            _record(settings.db, args.customer, planned)
            return 0
        print("this will remove, and cannot be undone:")
        _print_counts(planned, files_verb="to delete")
        answer = input(f"erase @{erase.customer_key(args.customer)}? type yes to go on: ")
        if answer.strip().lower() != "yes":
            print("nothing was changed")
            return 1
    report = erase.erase_customer(warehouse, args.customer, settings, raw_dir)
    _record(settings.db, args.customer, report)
    if report.nothing:
        print("nothing to erase: no tweet, thread, CRM case, user record, quarantined record or raw pull page "
              "names this customer (nothing was changed)")
        return 0
    print(f"erased the customer ({report.author_ids} author id{'s' if report.author_ids != 1 else ''}) "
          f"in {report.seconds:.1f} s:")
    _print_counts(report, files_verb="deleted")
    print(f"  conversations rebuilt: {report.conversations_rebuilt} ({report.threads_rebuilt} thread(s) of other "
          f"customers), CRM links changed: {report.crm_links_changed}")
    if any(report.removed.values()) or report.texts_rewritten:
        print(f"{settings.db} was written afresh: the erased rows are not in the published file")
    for failure in report.raw_failures:
        print(f"warning: could not delete the raw file {failure}", file=sys.stderr)
    return 2 if report.raw_failures else 0


def _print_counts(report: ErasureReport, *, files_verb: str) -> None:
    from carepulse.etl.erase import ERASED  # here, not at the top: see run (start-up time)

    width = max(len(label) for label in LABELS.values())
    for table, label in LABELS.items():
        print(f"  {label:<{width}}  {report.removed[table]:>7,}  ({'tweets' if table == 'brand_replies' else table})")
    print(f"  {'tweet texts naming them':<{width}}  {report.texts_rewritten:>7,}  (the handle becomes "
          f"{ERASED})")
    print(f"  raw pull pages {files_verb}: {len(report.raw_files)}")
    for path in report.raw_files:
        print(f"    {path}")


def _record(db: Path, handle: str, report: ErasureReport) -> None:
    """The audit entry: who (the OS user), the counts, and a keyed hash standing for the handle."""
    from carepulse.warehouse import audit  # here, not at the top: see run (start-up time)

    try:
        customer = audit.handle_digest(db, handle)
    except (OSError, ValueError) as exc:
        customer = f"(no digest: {exc})"
    audit.record(db, audit.os_user(), "erase", {"customer": customer, "nothing_found": report.nothing,
                                                **report.counts()})
