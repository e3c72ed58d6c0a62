"""Shared helpers and the ``con`` fixture for the CRM file tests (test_crm_*.py)."""

# CRM exports -> crm_cases, quarantine and ingest_runs, and the case-to-thread link.
#
# Expected values are worked out by hand next to each test (Berlin is UTC+1 in winter, UTC+2 from
# 29.03.2026 to 25.10.2026). The fixtures in ``fixtures/crm`` are small enough to read:
#
# * ``export_de.csv``: a German export (BOM, CRLF, ``;``, decimal comma, German dates) for
#   ``etl/mappings/example_de.toml``; line 6 has an unknown channel.
# * ``cases_canonical.csv``: canonical headers, ``,``, ISO timestamps with and without offsets.
# * ``malformed.csv``: one record per kind of problem, see ``MALFORMED`` in test_crm_validation.py for its lines.

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from carepulse.etl.runs import FileReport, next_ids
from carepulse.etl.sources.crm.files import load_crm_files
from carepulse.etl.sources.crm.mapping import FIELD_NAMES, Mapping
from carepulse.warehouse import apply_schema

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "crm"
EXAMPLE_MAPPING = REPO / "carepulse" / "etl" / "mappings" / "example_de.toml"
HEADER = ",".join(FIELD_NAMES)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def con() -> Any:
    """An in-memory warehouse inside an open transaction, as ``Warehouse.writer()`` hands it out."""
    connection = duckdb.connect(":memory:")
    connection.execute("SET TimeZone = 'UTC'")
    apply_schema(connection)
    connection.execute("BEGIN TRANSACTION")
    yield connection
    connection.close()


def load(con: duckdb.DuckDBPyConnection, *files: Path, mapping: Mapping | None = None) -> list[FileReport]:
    run_id, batch_id = next_ids(con)
    return load_crm_files(con, list(files), mapping, run_id, batch_id)


def counts(report: FileReport) -> tuple[int, int, int, int, int]:
    return report.records_read, report.loaded, report.updated, report.duplicate, report.quarantined


def case(con: duckdb.DuckDBPyConnection, case_id: str) -> dict[str, Any]:
    cur = con.execute("SELECT * FROM crm_cases WHERE case_id = ?", [case_id])
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, f"{case_id}: {len(rows)} rows"
    return dict(zip(names, rows[0], strict=True))


def quarantine(con: duckdb.DuckDBPyConnection, run_id: int | None = None) -> list[tuple[Any, ...]]:
    where = "" if run_id is None else f"WHERE run_id = {run_id}"
    return con.execute(f"SELECT line, record_no, reason, raw FROM quarantine {where} ORDER BY run_id, record_no"
                       ).fetchall()


def table(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute("SELECT * FROM crm_cases ORDER BY case_id").fetchall()


def write_csv(path: Path, rows: list[str], *, newline: str = "\n", bom: bool = False) -> Path:
    data = newline.join(rows).encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def canonical_row(case_id: str, channel: str = "phone", opened: str = "2026-01-10 10:00", **fields: str) -> str:
    values = {"case_id": case_id, "channel": channel, "opened_at": opened, **fields}
    buf = io.StringIO()
    # the writer quotes fields holding a character of its line terminator: keep the default one
    csv.writer(buf, lineterminator="\r\n").writerow([values.get(name, "") for name in FIELD_NAMES])
    return buf.getvalue().removesuffix("\r\n")
