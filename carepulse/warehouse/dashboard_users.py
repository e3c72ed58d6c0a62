"""The dashboard's users (table ``dashboard_users``): a name, a role and an argon2 hash of the password.

Writes go through the publishing writer, like a load (``Warehouse.writer``): an added user waits for a
running load, is one transaction, and every reader sees it with the next snapshot. Reads take a read-only
cursor and first check that the table exists, because a warehouse written before logins existed lacks it
(the table appears with the next write). Values are always bound parameters, never formatted into SQL.

The password hashing lives here too, beside the table it fills: the CLI (which adds users) and the
dashboard (which checks them) both need it, and this is the lowest layer both may import. Argon2id with
argon2-cffi's defaults (memory-hard: a stolen warehouse file does not give the passwords away cheaply).
Only the hash is stored; the password itself never reaches the warehouse, a log or the command line.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from carepulse.core.errors import ConfigError, DataError
from carepulse.warehouse.store import Warehouse, has_table

ROLES = ("management", "teamlead", "analyst", "admin")
"""Ordered: each role includes every role before it (``role_includes``)."""
ROLE_NOTES = {
    "management": "the Pilot page: aggregates only, and its report",
    "teamlead": "plus the Team page and single threads",
    "analyst": "plus Explore and all exports and downloads",
    "admin": "plus the Data page, the quarantine, and managing users",
}
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes any length; an unbounded one is only a way to make a login slow

_HASHER = PasswordHasher()


@dataclass(frozen=True)
class DashboardUser:
    name: str
    role: str
    created_at: datetime


def role_includes(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may (an unknown role may do nothing)."""
    if role not in ROLES or needed not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    return role


def check_name(name: str) -> str:
    """A user name: letters, digits and ``. _ @ + -``, at most 64 characters (it appears in logs and pages)."""
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(f"user name {name[:80]!r}: use 1 to 64 letters, digits and . _ @ + - "
                          "(starting with a letter or digit)")
    return name


def hash_password(password: str) -> str:
    """The argon2id hash to store; refuses a password too short to be worth hashing."""
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ConfigError(f"the password is too long: at most {MAX_PASSWORD} characters")
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; a damaged hash matches nothing."""
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A hash to check against when the name is unknown, so that an unknown name takes as long as a wrong
    password (the time of an answer must not tell which names exist). Made on first use: hashing costs
    tens of milliseconds and 64 MiB, which a command that never checks a login should not pay."""
    return _HASHER.hash("carepulse-no-such-user-" + secrets.token_urlsafe(16))


# ---- writing (the publishing writer) ---------------------------------------------------------------

def add_user(path: Path, name: str, role: str, password: str) -> None:
    """Add a user; refuses a name that exists (``set_role`` changes a role, ``remove_user`` then ``add_user``
    a password)."""
    check_name(name)
    check_role(role)
    hashed = hash_password(password)
    with Warehouse(path).writer() as con:
        if con.execute("SELECT 1 FROM dashboard_users WHERE name = ?", [name]).fetchall():
            raise DataError(f"a dashboard user {name!r} exists already (users set-role changes the role)")
        con.execute("INSERT INTO dashboard_users VALUES (?, ?, ?, ?)", [name, role, hashed, datetime.now(UTC)])


def remove_user(path: Path, name: str) -> None:
    """Remove a user; unknown names are an error (a typo must not look like a removal)."""
    with Warehouse(path).writer() as con:
        found = con.execute("DELETE FROM dashboard_users WHERE name = ? RETURNING name", [name]).fetchall()
        if not found:
            raise DataError(f"no dashboard user {name!r} (carepulse users list shows them)")


def set_role(path: Path, name: str, role: str) -> None:
    check_role(role)
    with Warehouse(path).writer() as con:
        found = con.execute("UPDATE dashboard_users SET role = ? WHERE name = ? RETURNING name",
                            [role, name]).fetchall()
        if not found:
            raise DataError(f"no dashboard user {name!r} (carepulse users list shows them)")


# ---- reading (a read-only cursor) --------------------------------------------------------------------

def _table_present(con: duckdb.DuckDBPyConnection) -> bool:
    return has_table(con, "dashboard_users")


def read_users(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """Every user as name -> (role, password hash), from a read-only cursor; empty without the table.

    The dashboard keeps this per snapshot (a handful of rows), so a request costs a ``stat``, not a query.
    """
    if not _table_present(con):
        return {}
    rows = con.execute("SELECT name, role, password_hash FROM dashboard_users").fetchall()
    return {str(name): (str(role), str(hashed)) for name, role, hashed in rows}


def list_users(path: Path) -> list[DashboardUser]:
    """The users by name (no hashes); none without a warehouse or before the table exists."""
    if not Path(path).exists():
        return []
    reader = Warehouse(path).reader()
    try:
        con = reader.connection()
        if not _table_present(con):
            return []
        rows = con.execute("SELECT name, role, created_at FROM dashboard_users ORDER BY lower(name), name").fetchall()
    finally:
        reader.close()
    return [DashboardUser(str(name), str(role), created) for name, role, created in rows]


def get_user(path: Path, name: str) -> tuple[str, str] | None:
    """One user's (role, password hash), None when there is no such user."""
    if not Path(path).exists():
        return None
    reader = Warehouse(path).reader()
    try:
        return read_users(reader.connection()).get(name)
    finally:
        reader.close()
