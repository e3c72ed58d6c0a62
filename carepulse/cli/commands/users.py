"""``carepulse users``: who may log in to the dashboard, and with which role.

``users add NAME --role ROLE`` asks for the password twice on the terminal (``getpass``: not echoed), or
reads one line from stdin with ``--password-stdin`` (for scripts: ``printf '%s\\n' "$PW" | carepulse users
add ...``). A password is never an argument: arguments end up in shell histories and in ``ps`` for every
user of the machine to read. ``users list``, ``users remove NAME`` and ``users set-role NAME ROLE`` do what
they say. Users live in the warehouse (table ``dashboard_users``), written like a load; a dashboard
started while there were no users has no login, so restart ``carepulse serve`` after adding the first one.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from carepulse.cli import COMMANDS, add_db_option
from carepulse.core.config import load_settings
from carepulse.core.errors import ConfigError, DataError
from carepulse.warehouse import audit
from carepulse.warehouse import dashboard_users as users


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "users", help=COMMANDS["users"],
        description="Dashboard users and their roles: " + "; ".join(
            f"{role}: {note}" for role, note in users.ROLE_NOTES.items()) + ". See docs/security.md.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        add_db_option(p)
        return p

    add = with_db(actions.add_parser("add", help="add a user (asks for the password)"))
    add.add_argument("name")
    add.add_argument("--role", required=True, help=f"one of {', '.join(users.ROLES)}")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of stdin instead of asking")
    add.set_defaults(func=run_add)
    listing = with_db(actions.add_parser("list", help="the users and their roles"))
    listing.set_defaults(func=run_list)
    remove = with_db(actions.add_parser("remove", help="remove a user"))
    remove.add_argument("name")
    remove.set_defaults(func=run_remove)
    set_role = with_db(actions.add_parser("set-role", help="change a user's role"))
    set_role.add_argument("name")
    set_role.add_argument("role", help=f"one of {', '.join(users.ROLES)}")
    set_role.set_defaults(func=run_set_role)


def _warehouse(args: argparse.Namespace) -> Path:
    """The warehouse file, which must exist: a mistyped ``--db`` must not create a new, empty warehouse."""
    settings = load_settings(Path(args.config) if args.config else None, db=args.db)
    if not settings.db.exists():
        raise DataError(f"no warehouse at {settings.db}: load data first (carepulse demo, or carepulse ingest ...)")
    return settings.db


def _audit(db: Path, action: str, detail: dict[str, str]) -> None:
    """A user change in the audit log, by the OS user who ran the command (never the password)."""
    audit.record(db, audit.os_user(), action, detail)


def read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or asked twice on the terminal (a typo would lock the user out)."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise ConfigError("--password-stdin: stdin gave no password")
        return password
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask for the password: pipe it in with --password-stdin")
    password = getpass.getpass("password: ")
    if getpass.getpass("password again: ") != password:
        raise ConfigError("the two passwords differ: nothing was changed")
    return password


def run_add(args: argparse.Namespace) -> int:
    users.check_name(args.name)  # refused before the password is asked for
    users.check_role(args.role)
    db = _warehouse(args)
    users.add_user(db, args.name, args.role, read_password(args.password_stdin))
    _audit(db, "users.add", {"name": args.name, "role": args.role})
    print(f"added {args.name} ({args.role}); restart carepulse serve if it is running without a login")
    return 0


def run_list(args: argparse.Namespace) -> int:
    found = users.list_users(_warehouse(args))
    if not found:
        print("no dashboard users: the dashboard opens without a login (carepulse users add NAME --role ROLE)")
        return 0
    width = max(len(u.name) for u in found)
    for user in found:
        print(f"{user.name:<{width}}  {user.role:<10}  added {user.created_at:%Y-%m-%d %H:%M %Z}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    db = _warehouse(args)
    users.remove_user(db, args.name)
    _audit(db, "users.remove", {"name": args.name})
    print(f"removed {args.name}")
    return 0


def run_set_role(args: argparse.Namespace) -> int:
    users.check_role(args.role)
    db = _warehouse(args)
    users.set_role(db, args.name, args.role)
    _audit(db, "users.set-role", {"name": args.name, "role": args.role})
    print(f"{args.name} is now {args.role}")
    return 0
