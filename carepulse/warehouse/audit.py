"""The audit log: who did what, when (logins, logouts, downloads, user changes, erasures).

**Why a separate SQLite file.** The warehouse is published whole: every write copies the DuckDB file and
renames the copy into place (:mod:`carepulse.warehouse.store`). A login is not worth a copy of a 200 MB
file, and a dashboard that wrote the warehouse for every request would queue behind every load. So the
log lives beside the warehouse in ``<warehouse>.audit.sqlite`` (stdlib :mod:`sqlite3`, WAL mode: the
dashboard's threads and a CLI command append at the same time, and readers do not block writers), one
table::

    audit(at TEXT  -- ISO-8601 UTC, actor TEXT, action TEXT, detail TEXT  -- JSON object)

It is append-only from carepulse's side: nothing here updates or deletes a row. It is not a tamper-proof
log (whoever can write the file can edit it); it records what carepulse did, for the operator and for
the accountability GDPR Art. 5(2) asks for.

**Never in the way.** :func:`record` never raises: an audit write that fails (disk full, a read-only
directory, a locked file) logs a warning and the action it records goes on. A login must not fail
because its log line could not be written; the warning says the log has a gap.

**Identifiers of erased people.** An erasure is recorded with its counts and a keyed hash of the handle
(:func:`handle_digest`), never the handle itself: a log that kept the name of everyone who asked to be
forgotten would be the one place that still names them. A plain hash would not do: handles are short and
public, so hashing a list of candidate handles reverses a SHA-256 in seconds. An HMAC needs the key, which
lives outside the log (``$CAREPULSE_AUDIT_KEY``, else ``.carepulse-audit-key`` beside the warehouse, made on
first use, mode 0600): someone holding it can still answer "was @x erased, and when?" (the person asks
again; an old export holding their tweets is about to be loaded), while the log itself, copied, backed up
or shown on the Data page, says nothing about who.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import hmac
import json
import logging
import os
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carepulse.core.local_secrets import local_secret

log = logging.getLogger(__name__)

SUFFIX = ".audit.sqlite"
KEY_ENV = "CAREPULSE_AUDIT_KEY"
KEY_FILE = ".carepulse-audit-key"
MIN_KEY = 32
BUSY_TIMEOUT_S = 5.0
DIGEST_PREFIX = "hmac-sha256:"

SCHEMA = "CREATE TABLE IF NOT EXISTS audit (at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT)"


@dataclass(frozen=True)
class AuditEntry:
    """One line of the log; ``detail`` is the JSON object it was recorded with (``{}`` if unreadable)."""

    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


def audit_path(db_path: Path | str) -> Path:
    """``<warehouse>.audit.sqlite``: one log per warehouse file, beside it (and outside its snapshots)."""
    return Path(str(db_path) + SUFFIX)


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        yield con
    finally:
        con.close()


def record(db_path: Path | str, actor: str, action: str, detail: Mapping[str, Any]) -> bool:
    """Append one entry; True when written. Never raises: a failure is a logged warning (see the module)."""
    path = audit_path(db_path)
    try:
        text = json.dumps(dict(detail), ensure_ascii=False, sort_keys=True, default=str)
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        with _connect(path) as con:
            con.execute("PRAGMA journal_mode = WAL")
            con.execute(SCHEMA)
            con.execute("INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)",
                        [at, str(actor), str(action), text])
        return True
    except Exception as exc:  # an audit write must never break the action it records
        log.warning("could not write the audit log %s (%s by %s is not recorded): %s", path, action, actor, exc)
        return False


def recent(db_path: Path | str, limit: int = 500) -> list[AuditEntry]:
    """The newest ``limit`` entries, newest first; none without a log file. A log that cannot be read raises
    :class:`sqlite3.Error` (the Data page says so; nobody is helped by an empty table that hides a fault)."""
    path = audit_path(db_path)
    if not path.exists():
        return []
    with _connect(path) as con:
        con.execute(SCHEMA)  # a file made by another program: an empty answer, not "no such table"
        rows = con.execute("SELECT at, actor, action, detail FROM audit ORDER BY at DESC, rowid DESC LIMIT ?",
                           [max(0, int(limit))]).fetchall()
    return [AuditEntry(_moment(at), str(actor), str(action), _detail(detail)) for at, actor, action, detail in rows]


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _detail(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def os_user() -> str:
    """Who runs a CLI command: the login name of the process (``$USER`` and friends, else the uid)."""
    try:
        return getpass.getuser()
    except Exception:
        return f"uid {os.getuid()}"


def _key(db_path: Path | str) -> bytes:
    """The HMAC key: ``$CAREPULSE_AUDIT_KEY``, else ``.carepulse-audit-key`` beside the warehouse (see
    :mod:`carepulse.core.local_secrets`). Not the dashboard's session secret: deleting that logs everyone
    out, and would silently make every digest recorded before it uncomparable."""
    return local_secret(Path(db_path).parent, KEY_ENV, KEY_FILE, min_length=MIN_KEY).encode("utf-8")


def handle_digest(db_path: Path | str, handle: str) -> str:
    """The keyed hash that stands for a handle in the log (lower-case, without ``@``; see the module)."""
    key = handle.strip().lstrip("@").lower()
    return DIGEST_PREFIX + hmac.new(_key(db_path), key.encode("utf-8"), hashlib.sha256).hexdigest()
