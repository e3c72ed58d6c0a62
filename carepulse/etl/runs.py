"""The run log and the record accounting every source shares.

Each input file of an ingest command gets one ``ingest_runs`` row; all files of one command share
a ``batch_id`` and one transaction. The invariant checked before anything is published:
``records_read == loaded + duplicate + quarantined`` for every file (``updated`` is part of
``loaded``: a CRM case seen again with changed fields replaces the older version).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from carepulse.core.errors import DataError
from carepulse.warehouse.delta import target


@dataclass
class FileReport:
    """What happened to one input file."""

    source: str
    file: str
    run_id: int
    records_read: int = 0
    loaded: int = 0
    updated: int = 0
    duplicate: int = 0
    quarantined: int = 0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def balanced(self) -> bool:
        return self.records_read == self.loaded + self.duplicate + self.quarantined

    def line(self) -> str:
        upd = f" (of which {self.updated:,} updated)" if self.updated else ""
        return (
            f"{self.source} {self.file}: read {self.records_read:,} = loaded {self.loaded:,}{upd}"
            f" + duplicate {self.duplicate:,} + quarantined {self.quarantined:,}"
        )


def next_ids(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """The next free (run_id, batch_id)."""
    (row,) = con.execute(
        "SELECT coalesce(max(run_id), 0) + 1, coalesce(max(batch_id), 0) + 1 FROM ingest_runs"
    ).fetchall()
    return int(row[0]), int(row[1])


def check_readable(path: Path) -> None:
    """Fail with one clear line when a file cannot be read at all (missing, a directory, 0 bytes)."""
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read: {exc.strerror}") from exc
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes), not even a header")


def check_text(path: Path, what: str) -> None:
    """Refuse binary files before a parser turns them into junk rows."""
    with path.open("rb") as fh:
        head = fh.read(65536)
    if b"\x00" in head:
        raise DataError(f"{path}: looks like a binary file (NUL bytes), not {what}")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            raise DataError(
                f"{path}: not UTF-8 text at byte {exc.start} ({what} must be UTF-8; re-save it as UTF-8)"
            ) from exc


def record_run(con: duckdb.DuckDBPyConnection, report: FileReport, batch_id: int, path: Path,
               status: str = "ok", message: str | None = None) -> None:
    """Write the run row of one file, refusing to if its records do not add up."""
    if not report.balanced():
        raise AssertionError(f"accounting does not add up for {report.file}: {report}")
    con.execute(
        f"""INSERT INTO {target(con, "ingest_runs")} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [report.run_id, batch_id, report.source, report.file, path.stat().st_size, None,
         report.started_at, datetime.now(UTC), report.records_read, report.loaded, report.updated, report.duplicate,
         report.quarantined, status if not report.quarantined or status != "ok" else "ok_with_quarantine",
         message],
    )
