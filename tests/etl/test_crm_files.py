"""CRM exports -> crm_cases, quarantine and ingest_runs, and the case-to-thread link.

Expected values are worked out by hand next to each test (Berlin is UTC+1 in winter, UTC+2 from
29.03.2026 to 25.10.2026). The fixtures in ``fixtures/crm`` are small enough to read:

* ``export_de.csv``: a German export (BOM, CRLF, ``;``, decimal comma, German dates) for
  ``etl/mappings/example_de.toml``; line 6 has an unknown channel.
* ``cases_canonical.csv``: canonical headers, ``,``, ISO timestamps with and without offsets.
* ``malformed.csv``: one record per kind of problem, see ``MALFORMED`` below for its lines.
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import carepulse.core.config
from carepulse.core.errors import ConfigError, DataError
from carepulse.etl.runs import FileReport, next_ids
from carepulse.etl.sources.crm.files import load_crm_files
from carepulse.etl.sources.crm.mapping import (
    CHANNELS,
    DEFAULT_MAPPING,
    FIELD_NAMES,
    Mapping,
    load_mapping,
    mapping_from_dict,
)
from carepulse.etl.transform.crm_links import link_crm_cases
from carepulse.warehouse import Warehouse, apply_schema

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


# ------------------------------------------------------------------------------------------------
# formats and the German mapping


def test_german_export_with_example_mapping(con: duckdb.DuckDBPyConnection) -> None:
    mapping = load_mapping(EXAMPLE_MAPPING)
    [report] = load(con, FIXTURES / "export_de.csv", mapping=mapping)
    assert counts(report) == (5, 4, 0, 0, 1)

    f1 = case(con, "F-1001")
    # 24.11.2026 14:05 in Berlin (CET, UTC+1) = 13:05 UTC; closed 15:35 -> 14:35 UTC
    assert f1["opened_at"] == utc(2026, 11, 24, 13, 5)
    assert f1["closed_at"] == utc(2026, 11, 24, 14, 35)
    assert (f1["channel"], f1["outcome"], f1["twitter_handle"]) == ("twitter", "resolved", "anna_k")
    assert f1["conversation_ref"] == 1861234567890123456  # 19 digits, exact: never went through a float
    assert (f1["handled_minutes"], f1["csat"], f1["nps"]) == (12.5, 5, 9)
    assert (f1["customer_ref"], f1["agent"], f1["team"], f1["category"]) == ("K-1", "Max", "Social", "Rechnung")
    assert (f1["link_method"], f1["run_id"], f1["record_no"]) == ("none", 1, 1)

    f2 = case(con, "F-1002")
    assert (f2["opened_at"], f2["closed_at"], f2["outcome"]) == (utc(2026, 11, 24, 8, 0), None, "open")
    assert (f2["handled_minutes"], f2["csat"], f2["twitter_handle"]) == (7.0, None, None)

    f3 = case(con, "F-1003")
    # 01.07.2026 08:30 is summer time (CEST, UTC+2) -> 06:30 UTC; a quoted field keeps its ';'
    assert (f3["opened_at"], f3["closed_at"]) == (utc(2026, 7, 1, 6, 30), utc(2026, 7, 2, 8, 0))
    assert (f3["channel"], f3["outcome"], f3["category"]) == ("email", "unresolved", "Vertrag; Kündigung")

    f4 = case(con, "F-1004")
    # the day after the switch to summer time: 23:15 CEST = 21:15 UTC; 'chat' and 'Eskaliert ' match
    assert (f4["opened_at"], f4["closed_at"]) == (utc(2026, 3, 30, 21, 15), utc(2026, 3, 30, 22, 5))
    assert (f4["channel"], f4["outcome"], f4["handled_minutes"]) == ("chat", "escalated", 0.75)

    [(line, record_no, reason, raw)] = quarantine(con)
    assert (line, record_no) == (6, 5)
    assert reason.startswith("unknown channel 'Brieftaube'")
    assert '"Kanal":"Brieftaube"' in raw and '"Fallnummer":"F-1005"' in raw

    run = con.execute("SELECT run_id, batch_id, source, file, records_read, loaded, updated, duplicate, "
                      "quarantined, status FROM ingest_runs").fetchall()
    assert run == [(1, 1, "crm", str(FIXTURES / "export_de.csv"), 5, 4, 0, 0, 1, "ok_with_quarantine")]


def test_canonical_comma_csv_without_mapping(con: duckdb.DuckDBPyConnection) -> None:
    [report] = load(con, FIXTURES / "cases_canonical.csv")
    assert counts(report) == (3, 3, 0, 0, 0)
    c1 = case(con, "C-1")
    assert (c1["opened_at"], c1["closed_at"]) == (utc(2026, 11, 24, 13, 5), utc(2026, 11, 24, 14, 0))
    assert c1["conversation_ref"] == 1861234567890123456  # '...456.0', a pandas artefact, is accepted
    assert c1["twitter_handle"] == "Anna"
    # no offset: Berlin wall-clock time (default zone); 14:05 CET = 13:05 UTC
    assert case(con, "C-2")["opened_at"] == utc(2026, 11, 24, 13, 5)
    assert case(con, "C-2")["customer_ref"] == "CUST-9"
    c3 = case(con, "C-3")
    # explicit +02:00 wins over the default zone; a date alone is midnight Berlin (CEST) = 22:00 UTC before
    assert (c3["opened_at"], c3["closed_at"]) == (utc(2026, 6, 1, 8, 0), utc(2026, 6, 1, 22, 0))
    assert (c3["category"], c3["nps"], c3["csat"]) == ("delivery, late", 10, None)


def test_semicolon_detected_without_mapping_and_timezone_from_mapping(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "semi.csv", [HEADER.replace(",", ";"), "S-1;email;2026-01-10 10:00" + ";" * 11])
    [report] = load(con, path, mapping=Mapping(timezone="America/New_York"))
    assert counts(report) == (1, 1, 0, 0, 0)
    assert case(con, "S-1")["opened_at"] == utc(2026, 1, 10, 15, 0)  # New York is UTC-5 in January


MALFORMED = [  # (line, reason starts with) for fixtures/crm/malformed.csv
    (3, "missing case_id"),
    (4, "unknown channel 'pigeon'"),
    (5, "unparseable opened_at '10.01.2026 10:00' (expected ISO 8601"),
    (6, "unparseable closed_at 'tomorrow'"),
    (7, "closed_at '2026-01-09 10:00' is before opened_at '2026-01-10 10:00'"),
    (8, "csat '6' is not an integer 1..5"),
    (9, "csat 'gut' is not an integer 1..5"),
    (10, "nps '11' is not an integer 0..10"),
    (11, "handled_minutes '-2' is not a non-negative number"),
    (12, "handled_minutes 'abc' is not a non-negative number"),
    (13, "conversation_id '1.86123E+18' is in scientific notation"),
    (14, "conversation_id 'abc' is not a tweet id"),
    (15, "unknown outcome 'maybe'"),
    (16, "missing opened_at"),
    (17, "expected 14 fields (as in the header), found 3"),
    (18, "expected 14 fields (as in the header), found 15"),
    (21, "conflicting record: case_id 'M-1' already appears at line 2"),
    (23, "malformed quoting"),
    (24, "expected 14 fields (as in the header), found 3"),  # truncated last line, no newline
]


def test_every_malformed_kind_is_quarantined_with_reason_and_line(con: duckdb.DuckDBPyConnection) -> None:
    [report] = load(con, FIXTURES / "malformed.csv")
    # 22 records: lines 2-18, 19-20 (a quoted newline), 21, 22, 23, 24
    # loaded M-1 (line 2) and M-18; line 22 repeats line 2 exactly; everything else is quarantined
    assert counts(report) == (22, 2, 0, 1, 19)
    rows = quarantine(con)
    assert [line for line, _, _, _ in rows] == [line for line, _ in MALFORMED]
    for (line, _, reason, _), (_, expected) in zip(rows, MALFORMED, strict=True):
        assert reason.startswith(expected), (line, reason)
    by_line = {line: (record_no, raw) for line, record_no, _, raw in rows}
    assert by_line[21][0] == 19  # record numbers count records, lines count physical lines
    assert by_line[23][1] == 'M-21,"ph"one,2026-01-10 10:00,,,,,,,,,,,'  # broken records keep their text
    assert by_line[24][1] == "M-22,phone,2026-01-10 1"
    assert '"case_id":""' in by_line[3][1]  # validated records keep their fields as JSON
    assert case(con, "M-18")["category"] == "line one\nline two"
    assert case(con, "M-1")["outcome"] == "resolved"  # the first version in the file wins


def test_several_problems_of_one_record_are_all_named(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [HEADER, canonical_row("X", "fax", "soon", csat="0", nps="-1")])
    [report] = load(con, path)
    assert counts(report) == (1, 0, 0, 0, 1)
    [(_, _, reason, _)] = quarantine(con)
    assert reason.split("; ")[0].startswith("unknown channel 'fax'")
    assert reason.split("; ")[1].startswith("unparseable opened_at 'soon'")
    assert reason.split("; ")[2:] == ["csat '0' is not an integer 1..5", "nps '-1' is not an integer 0..10"]


@pytest.mark.parametrize(
    ("value", "stored", "reason"),
    [
        ("1861234567890123456", 1861234567890123456, None),
        ("1861234567890123456.0", 1861234567890123456, None),
        (" 42 ", 42, None),
        ("9223372036854775807", 9223372036854775807, None),
        ("9223372036854775808", None, "is not a tweet id"),  # beyond 64 bits
        ("1.861234567890123e+18", None, "scientific notation"),
        ("1861234567890123456.5", None, "is not a tweet id"),
        ("0", None, "is not a tweet id"),
        ("-5", None, "is not a tweet id"),
    ],
)
def test_conversation_id_is_an_exact_64_bit_integer(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, value: str, stored: int | None, reason: str | None
) -> None:
    path = write_csv(tmp_path / "c.csv", [HEADER, canonical_row("X", conversation_id=value)])
    [report] = load(con, path)
    if reason is None:
        assert case(con, "X")["conversation_ref"] == stored
    else:
        assert report.quarantined == 1 and reason in quarantine(con)[0][2]


@pytest.mark.parametrize(
    ("decimal", "value", "stored"),
    [(",", "12,5", 12.5), (",", "3", 3.0), (",", ",5", 0.5), (",", "1.234", None), (".", "1,5", None),
     (".", "0", 0.0), (".", "2.25", 2.25), (".", "1e3", None), (".", "inf", None)],
)
def test_handled_minutes_follow_the_decimal_separator(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, decimal: str, value: str, stored: float | None
) -> None:
    delimiter = ";" if decimal == "," else ","
    row = canonical_row("X", handled_minutes=value)
    lines = [HEADER, row] if delimiter == "," else [
        HEADER.replace(",", ";"), ";".join(next(csv.reader([row])))]
    path = write_csv(tmp_path / "c.csv", lines)
    [report] = load(con, path, mapping=Mapping(decimal=decimal))
    if stored is None:
        assert report.quarantined == 1
        assert f"handled_minutes '{value}' is not a non-negative number" in quarantine(con)[0][2]
    else:
        assert case(con, "X")["handled_minutes"] == stored


def test_date_format_with_offset_directive(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [HEADER, canonical_row("X", opened="24/11/2026 14:05 +0000")])
    load(con, path, mapping=Mapping(date_format="%d/%m/%Y %H:%M %z"))
    assert case(con, "X")["opened_at"] == utc(2026, 11, 24, 14, 5)  # the offset wins over the zone


def test_iso_timestamp_with_trailing_junk_is_rejected(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [HEADER, canonical_row("X", opened="2026-11-24 13:05 garbage")])
    [report] = load(con, path)
    assert report.quarantined == 1


# ------------------------------------------------------------------------------------------------
# line ends, encodings, structure


def test_bom_and_bare_cr_line_ends(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    rows = [HEADER, canonical_row("R-1"), canonical_row("R-2", category="two\rlines"), canonical_row("", "phone")]
    path = write_csv(tmp_path / "cr.csv", rows, newline="\r", bom=True)
    [report] = load(con, path)
    assert counts(report) == (3, 2, 0, 0, 1)
    assert case(con, "R-2")["category"] == "two\rlines"
    assert quarantine(con)[0][:3] == (5, 3, "missing case_id")  # R-2 spans lines 3-4


def test_crlf_with_quoted_lf_inside_a_field(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    rows = [HEADER, canonical_row("R-1", category="a\nb"), canonical_row("R-2", channel="fax")]
    [report] = load(con, write_csv(tmp_path / "crlf.csv", rows, newline="\r\n"))
    assert counts(report) == (2, 1, 0, 0, 1)
    assert case(con, "R-1")["category"] == "a\nb"
    assert quarantine(con)[0][0] == 4


def test_file_ending_inside_a_quoted_field(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [HEADER, canonical_row("T-1"), 'T-2,phone,2026-01-10 10:00,,,,,,,,"cut of'])
    [report] = load(con, path)
    assert counts(report) == (2, 1, 0, 0, 1)
    [(line, record_no, reason, raw)] = quarantine(con)
    assert (line, record_no) == (3, 2)
    assert reason.startswith("the file ends inside a quoted field")
    assert raw.endswith('"cut of')


def test_blank_lines_and_empty_rows_are_not_records(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    rows = ["", HEADER, "", canonical_row("B-1"), ",,,,,,,,,,,,,", "   ,,,,,,,,,,,,,", canonical_row("B-2"), ""]
    [report] = load(con, write_csv(tmp_path / "b.csv", rows))
    assert counts(report) == (2, 2, 0, 0, 0)
    assert case(con, "B-2")["record_no"] == 4


def test_header_only_reads_nothing(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    [report] = load(con, write_csv(tmp_path / "h.csv", [HEADER]))
    assert counts(report) == (0, 0, 0, 0, 0)
    assert con.execute("SELECT status FROM ingest_runs").fetchall() == [("ok",)]


def test_extra_columns_and_reordered_headers(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    rows = ["Notes,OPENED_AT , channel,case_id", "hello,2026-01-10 10:00,Phone,X-1"]
    [report] = load(con, write_csv(tmp_path / "r.csv", rows))
    assert counts(report) == (1, 1, 0, 0, 0)
    assert case(con, "X-1")["channel"] == "phone"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"empty \(0 bytes\)"),
        (b"\x00\x01\x02binary\x00junk" * 10, "binary file"),
        (b"case_id,channel,opened_at\n\xff\xfe\xfd\xfc,phone,2026-01-01\n", "not UTF-8"),
        (b"\n\n\n", "no header line"),
    ],
)
def test_unreadable_files_are_data_errors(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load(con, path)


def test_missing_file_is_a_data_error(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load(con, tmp_path / "nope.csv")


def test_missing_mapped_header_is_a_data_error_and_nothing_is_written(tmp_path: Path) -> None:
    good = FIXTURES / "export_de.csv"
    renamed = tmp_path / "renamed.csv"
    renamed.write_bytes(good.read_bytes().replace(b"Bearbeiter", b"Agent"))
    warehouse = Warehouse(tmp_path / "w.duckdb")
    with pytest.raises(DataError, match=r"columns\.agent = 'Bearbeiter'") as caught, warehouse.writer() as con:
        run_id, batch_id = next_ids(con)
        load_crm_files(con, [good, renamed], load_mapping(EXAMPLE_MAPPING), run_id, batch_id)
    assert "\n" not in str(caught.value)
    assert not warehouse.exists()  # the first (good) file was not published either


def test_missing_required_column_without_mapping(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ["case_id,channel,created", "X,phone,2026-01-01"])
    with pytest.raises(DataError, match=r"'opened_at' \(required\).*canonical names"):
        load(con, path)


def test_ambiguous_header_is_a_data_error(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ["case_id,channel,opened_at,channel", "X,phone,2026-01-01,phone"])
    with pytest.raises(DataError, match="'channel' \\(channel\\) appears 2 times"):
        load(con, path)
    folded = write_csv(tmp_path / "f.csv", ["case_id,Channel,opened_at,CHANNEL", "X,phone,2026-01-01,phone"])
    with pytest.raises(DataError, match="appears 2 times"):
        load(con, folded)
    exact = write_csv(tmp_path / "e.csv", ["case_id,channel,opened_at,CHANNEL", "X,phone,2026-01-01,fax"])
    assert counts(load(con, exact)[0]) == (1, 1, 0, 0, 0)  # an exact match wins over a folded one


# ------------------------------------------------------------------------------------------------
# reloads, updates, accounting


def test_loading_twice_changes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    mapping = load_mapping(EXAMPLE_MAPPING)
    [first] = load(con, FIXTURES / "export_de.csv", mapping=mapping)
    before = table(con)
    [second] = load(con, FIXTURES / "export_de.csv", mapping=mapping)
    assert counts(first) == (5, 4, 0, 0, 1)
    assert counts(second) == (5, 0, 0, 4, 1)  # 0 new; the bad record is quarantined again, for run 2
    assert table(con) == before
    assert len(quarantine(con, 2)) == 1
    assert con.execute("SELECT count(*) FROM ingest_runs").fetchone() == (2,)


def test_an_updated_case_replaces_the_stored_one(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    v1 = write_csv(tmp_path / "monday.csv", [HEADER, canonical_row("U-1", outcome="open"), canonical_row("U-2")])
    v2 = write_csv(tmp_path / "tuesday.csv", [
        HEADER,
        canonical_row("U-2"),  # unchanged
        canonical_row("U-1", outcome="resolved", closed_at="2026-01-11 09:00", csat="5"),  # closed since
        canonical_row("U-3"),  # new
    ])
    load(con, v1)
    [report] = load(con, v2)
    assert counts(report) == (3, 2, 1, 1, 0)
    u1 = case(con, "U-1")
    assert (u1["outcome"], u1["closed_at"], u1["csat"]) == ("resolved", utc(2026, 1, 11, 8, 0), 5)
    assert (u1["run_id"], u1["record_no"]) == (2, 2)
    assert case(con, "U-2")["run_id"] == 1  # a duplicate leaves the stored row alone
    assert con.execute("SELECT count(*) FROM crm_cases").fetchone() == (3,)


def test_several_files_in_one_batch_get_consecutive_run_ids(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a.csv", [HEADER, canonical_row("A-1", outcome="open")])
    b = write_csv(tmp_path / "b.csv", [HEADER, canonical_row("A-1", outcome="resolved")])
    reports = load_crm_files(con, [a, b], None, first_run_id=7, batch_id=3)
    assert [r.run_id for r in reports] == [7, 8]
    assert [counts(r) for r in reports] == [(1, 1, 0, 0, 0), (1, 1, 1, 0, 0)]
    assert con.execute("SELECT run_id, batch_id FROM ingest_runs ORDER BY run_id").fetchall() == [(7, 3), (8, 3)]
    assert case(con, "A-1")["outcome"] == "resolved"


def test_through_the_warehouse_writer(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    with warehouse.writer() as con:
        run_id, batch_id = next_ids(con)
        load_crm_files(con, [FIXTURES / "cases_canonical.csv"], None, run_id, batch_id)
        link_crm_cases(con, 48)
    reader = warehouse.reader()
    assert reader.connection().execute("SELECT count(*) FROM crm_cases").fetchone() == (3,)
    reader.close()


GOOD, BAD_KINDS = "good", ("no_id", "bad_channel", "bad_date", "short_row", "csat", "closed_before")


def _row_for(kind: str, case_no: int, variant: int) -> str:
    case_id = f"H-{case_no}"
    outcome = ("open", "resolved")[variant]
    if kind == GOOD:
        return canonical_row(case_id, outcome=outcome)
    if kind == "no_id":
        return canonical_row("", outcome=outcome)
    if kind == "bad_channel":
        return canonical_row(case_id, channel="fax")
    if kind == "bad_date":
        return canonical_row(case_id, opened="yesterday")
    if kind == "short_row":
        return f"{case_id},phone"
    if kind == "csat":
        return canonical_row(case_id, csat="9")
    return canonical_row(case_id, closed_at="2026-01-01 00:00")


def _expected(records: list[tuple[str, int, int]], stored: dict[str, int]) -> tuple[int, int, int, int]:
    """Plain-Python model of the rules: (loaded, updated, duplicate, quarantined); updates ``stored``."""
    loaded = updated = duplicate = quarantined = 0
    first_in_file: dict[str, int] = {}
    for kind, case_no, variant in records:
        case_id = f"H-{case_no}"
        if kind != GOOD:
            quarantined += 1
        elif case_id in first_in_file:
            if first_in_file[case_id] == variant:
                duplicate += 1
            else:
                quarantined += 1
        else:
            first_in_file[case_id] = variant
            if case_id not in stored:
                loaded += 1
            elif stored[case_id] == variant:
                duplicate += 1
            else:
                loaded += 1
                updated += 1
    stored.update(first_in_file)
    return loaded, updated, duplicate, quarantined


record_lists = st.lists(
    st.tuples(st.sampled_from((GOOD, GOOD, GOOD, *BAD_KINDS)), st.integers(0, 6), st.integers(0, 1)),
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=record_lists, second=record_lists)
def test_every_record_is_accounted_for(first: list[tuple[str, int, int]], second: list[tuple[str, int, int]]) -> None:
    """read == loaded + duplicate + quarantined for random mixes, matching a plain-Python model;
    reloading a file changes nothing."""
    connection = duckdb.connect(":memory:")
    apply_schema(connection)
    connection.execute("BEGIN TRANSACTION")
    stored: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for number, records in enumerate((first, second)):
            path = write_csv(Path(tmp) / f"{number}.csv", [HEADER] + [_row_for(*r) for r in records])
            [report] = load(connection, path)
            assert report.balanced()
            assert report.records_read == len(records)
            assert (report.loaded, report.updated, report.duplicate, report.quarantined) == _expected(
                records, stored)
            assert connection.execute("SELECT count(*) FROM crm_cases").fetchone() == (len(stored),)
            before = table(connection)
            [again] = load(connection, path)
            assert (again.loaded, again.quarantined) == (0, report.quarantined)
            assert table(connection) == before
    assert connection.execute("SELECT count(*) FROM quarantine").fetchone() == connection.execute(
        "SELECT sum(quarantined) FROM ingest_runs").fetchone()
    connection.close()


# ------------------------------------------------------------------------------------------------
# XLSX and Parquet


def test_xlsx_sheet_with_typed_and_text_cells(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    info = workbook.worksheets[0]
    info.title = "Info"
    info.append(["this sheet is not the data"])
    sheet = workbook.create_sheet("Fälle")
    sheet.append(["Fallnummer", "Kanal", "Erstellt am", "Bearbeitungszeit (Min)", "Tweet-ID", "Zufriedenheit"])
    sheet.append(["F-1", "Telefon", datetime(2026, 11, 24, 14, 5), 12.5, "1861234567890123456", 4])  # row 2
    sheet.append(["F-2", "Twitter", "24.11.2026 14:05", "7,5", 1.861234567890123e18, 4.0])  # row 3: float id
    sheet.append([None, None, None, None, None, None])  # row 4: padding, not a record
    sheet.append([1003, "chat", datetime(2026, 7, 1, 8, 30), 3, 123456789.0, None])  # row 5
    sheet.append(["F-4", "Fax", datetime(2026, 7, 1, 8, 30)])  # row 6: short row, unknown channel
    path = tmp_path / "faelle.xlsx"
    workbook.save(path)
    mapping = mapping_from_dict({
        "source": {"decimal": ",", "date_format": "%d.%m.%Y %H:%M", "sheet": "Fälle"},
        "columns": {"case_id": "Fallnummer", "channel": "Kanal", "opened_at": "Erstellt am",
                    "handled_minutes": "Bearbeitungszeit (Min)", "conversation_id": "Tweet-ID",
                    "csat": "Zufriedenheit"},
        "values": {"channel": {"Telefon": "phone", "Twitter": "twitter"}},
    })
    [report] = load(con, path, mapping=mapping)
    assert counts(report) == (4, 2, 0, 0, 2)
    f1 = case(con, "F-1")
    assert (f1["opened_at"], f1["handled_minutes"], f1["csat"]) == (utc(2026, 11, 24, 13, 5), 12.5, 4)
    assert f1["conversation_ref"] == 1861234567890123456
    third = case(con, "1003")  # a numeric case number is stored as text
    assert (third["opened_at"], third["conversation_ref"], third["handled_minutes"]) == (
        utc(2026, 7, 1, 6, 30), 123456789, 3.0)
    rows = quarantine(con)
    assert [(line, record_no) for line, record_no, _, _ in rows] == [(3, 2), (6, 4)]
    assert "scientific notation" in rows[0][2]
    assert rows[1][2].startswith("unknown channel 'Fax'")


def test_xlsx_first_sheet_by_default_and_reload(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.worksheets[0].append(list(FIELD_NAMES))
    workbook.worksheets[0].append(["X-1", "email", "2026-01-10T09:00:00Z"])
    path = tmp_path / "cases.xlsx"
    workbook.save(path)
    assert counts(load(con, path)[0]) == (1, 1, 0, 0, 0)
    assert counts(load(con, path)[0]) == (1, 0, 0, 1, 0)
    assert case(con, "X-1")["opened_at"] == utc(2026, 1, 10, 9, 0)


def test_xlsx_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 this is no workbook")
    with pytest.raises(DataError, match=r"not a valid \.xlsx workbook"):
        load(con, junk)
    workbook = openpyxl.Workbook()
    workbook.worksheets[0].append(list(FIELD_NAMES))
    path = tmp_path / "cases.xlsx"
    workbook.save(path)
    with pytest.raises(DataError, match="no sheet 'Fälle'"):
        load(con, path, mapping=Mapping(sheet="Fälle"))
    with pytest.raises(DataError, match="old binary Excel"):
        (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
        load(con, tmp_path / "old.xls")


def test_parquet_with_typed_columns(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    data = pa.table({
        "case_id": ["P-1", "P-2", None, "P-4"],
        "channel": ["twitter", "phone", "email", "shop"],
        "opened_at": pa.array([datetime(2026, 11, 24, 13, 5, tzinfo=UTC), datetime(2026, 11, 24, 14, 0, tzinfo=UTC),
                               None, datetime(2026, 1, 1, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
        "closed_at": pa.array([datetime(2026, 11, 24, 15, 5), None, None, None], pa.timestamp("us")),
        "conversation_id": pa.array([1861234567890123456, None, None, None], pa.int64()),
        "handled_minutes": pa.array([2.5, None, None, -1.0], pa.float64()),
        "nps": pa.array([10, None, None, None], pa.int32()),
    })
    path = tmp_path / "cases.parquet"
    pq.write_table(data, path)
    [report] = load(con, path)
    assert counts(report) == (4, 2, 0, 0, 2)
    p1 = case(con, "P-1")
    assert (p1["opened_at"], p1["conversation_ref"], p1["handled_minutes"], p1["nps"]) == (
        utc(2026, 11, 24, 13, 5), 1861234567890123456, 2.5, 10)
    assert p1["closed_at"] == utc(2026, 11, 24, 14, 5)  # a naive timestamp is Berlin wall-clock time
    rows = quarantine(con)
    assert [(line, record_no) for line, record_no, _, _ in rows] == [(None, 3), (None, 4)]
    assert rows[0][2] == "missing case_id; missing opened_at"
    assert rows[1][2].startswith("handled_minutes '-1.0'")
    assert counts(load(con, path)[0]) == (4, 0, 0, 2, 2)


def test_parquet_conflicts_name_the_record(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "dups.parquet"
    pq.write_table(pa.table({"case_id": ["D", "D", "D"], "channel": ["chat", "email", "chat"],
                             "opened_at": ["2026-01-10 10:00"] * 3}), path)
    [report] = load(con, path)
    assert counts(report) == (3, 1, 0, 1, 1)
    [(line, record_no, reason, _)] = quarantine(con)
    assert (line, record_no) == (None, 2)
    assert "already appears at record 1 of this file" in reason


def test_parquet_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"PAR1 truncated")
    with pytest.raises(DataError, match="not a Parquet file"):
        load(con, junk)
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    with pytest.raises(DataError, match="cannot be read"):
        load(con, corrupt)


# ------------------------------------------------------------------------------------------------
# the mapping file


def test_example_mapping_loads() -> None:
    mapping = load_mapping(EXAMPLE_MAPPING)
    assert (mapping.delimiter, mapping.decimal, mapping.date_format, mapping.timezone, mapping.sheet) == (
        ";", ",", "%d.%m.%Y %H:%M", "Europe/Berlin", "Fälle")
    assert set(mapping.columns) == set(FIELD_NAMES)
    assert mapping.channel_values["e-mail"] == "email"
    assert mapping.values_for("outcome")["nicht gelöst"] == "unresolved"
    assert mapping.values_for("outcome")["resolved"] == "resolved"


def test_mapping_reports_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        mapping_from_dict({
            "source": {"delimiter": ";;", "decimal": "'", "timezone": "Europe/Berlln", "date_format": "%Q",
                       "encoding": "latin-1"},
            "columns": {"case_no": "Nr", "channel": ""},
            "values": {"channel": {"Fax": "fax", "Telefon": "phone", "telefon ": "email"}, "agent": {}},
            "extra": {},
        })
    message = str(caught.value)
    for expected in ("unknown section [extra]", "source.encoding: unknown key", "source.delimiter",
                     "source.decimal", "unknown time zone 'Europe/Berlln'", "source.date_format: '%Q'",
                     "columns.case_no: unknown canonical field", "columns.channel: must be",
                     "'fax' is not a canonical channel", "another spelling", "values.agent"):
        assert expected in message, expected


def test_mapping_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_mapping(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[columns\ncase_id = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_mapping(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[source]\ndecimal = 1\n[values]\nchannel = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"source\.decimal: must be a string.*values\.channel: must be a table"):
        load_mapping(wrong)


def test_vocabularies_agree_with_the_settings_and_the_docs() -> None:
    assert CHANNELS == carepulse.core.config.CHANNELS
    assert DEFAULT_MAPPING.columns == {}
    docs = (REPO / "docs" / "crm.md").read_text(encoding="utf-8")
    for name in FIELD_NAMES:
        assert f"`{name}`" in docs, f"docs/crm.md does not describe {name}"


# ------------------------------------------------------------------------------------------------
# linking cases to threads

T0 = utc(2026, 11, 24, 12, 0)


def add_tweet(con: duckdb.DuckDBPyConnection, tweet_id: int, conversation_id: int, handle: str,
              at: datetime, *, brand: bool = False) -> None:
    con.execute(
        "INSERT INTO tweets (tweet_id, source, author_id, author_handle, is_brand, created_at, conversation_id,"
        " run_id) VALUES (?, 'test', ?, ?, ?, ?, ?, 0)",
        [tweet_id, f"id-{handle}", handle, brand, at, conversation_id],
    )


def add_thread(con: duckdb.DuckDBPyConnection, thread_id: str, conversation_id: int, handle: str,
               started_at: datetime) -> None:
    con.execute(
        "INSERT INTO threads (thread_id, conversation_id, customer_id, customer_handle, status, started_at,"
        " first_customer_tweet_id, customer_tweets, brand_replies, conversation_tweets,"
        " last_customer_tweet_at, last_tweet_at) VALUES (?, ?, ?, ?, 'answered', ?, 0, 1, 1, 2, ?, ?)",
        [thread_id, conversation_id, f"id-{handle}", handle, started_at, started_at, started_at],
    )


def add_case(con: duckdb.DuckDBPyConnection, case_id: str, opened_at: datetime, *, handle: str | None = None,
             conversation_ref: int | None = None, channel: str = "twitter") -> None:
    con.execute(
        "INSERT INTO crm_cases (case_id, channel, opened_at, twitter_handle, conversation_ref, run_id)"
        " VALUES (?, ?, ?, ?, ?, 0)",
        [case_id, channel, opened_at, handle, conversation_ref],
    )


def links(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str | None, int | None]]:
    rows = con.execute(
        "SELECT case_id, link_method, linked_thread_id, linked_conversation_id FROM crm_cases").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


@pytest.fixture
def conversation(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Conversation 100: anna starts (tweet 100), the brand replies (101), bob joins later (102).
    Conversation 200: anna again, a day later (tweet 200)."""
    add_tweet(con, 100, 100, "anna", T0)
    add_tweet(con, 101, 100, "brand", T0 + timedelta(minutes=5), brand=True)
    add_tweet(con, 102, 100, "Bob", T0 + timedelta(minutes=30))
    add_tweet(con, 200, 200, "anna", T0 + timedelta(days=1))
    add_thread(con, "100:anna", 100, "anna", T0)
    add_thread(con, "100:bob", 100, "Bob", T0 + timedelta(minutes=30))
    add_thread(con, "200:anna", 200, "anna", T0 + timedelta(days=1))
    return con


def test_link_by_conversation(conversation: duckdb.DuckDBPyConnection) -> None:
    con = conversation
    add_case(con, "any-tweet-with-handle", T0 + timedelta(days=9), handle="@BOB", conversation_ref=101)
    add_case(con, "no-handle", T0 + timedelta(days=9), conversation_ref=102)
    add_case(con, "stranger", T0 + timedelta(days=9), handle="carl", conversation_ref=100)
    add_case(con, "conversation-id-only", T0, conversation_ref=200)  # tweet 200 is also in tweets
    result = link_crm_cases(con, 48)
    assert result == {"conversation": 4, "handle_window": 0, "none": 0}
    assert links(con) == {
        "any-tweet-with-handle": ("conversation", "100:bob", 100),  # the named customer's own thread
        "no-handle": ("conversation", "100:anna", 100),  # the earliest customer of the conversation
        "stranger": ("conversation", "100:anna", 100),  # handle not in it: the conversation still decides
        "conversation-id-only": ("conversation", "200:anna", 200),
    }


def test_conversation_known_only_from_threads(con: duckdb.DuckDBPyConnection) -> None:
    add_thread(con, "300:dora", 300, "dora", T0)  # root tweet 300 not loaded (API data)
    add_case(con, "C", T0 + timedelta(days=30), conversation_ref=300)
    assert link_crm_cases(con, 48)["conversation"] == 1


def test_link_by_handle_window_edges(conversation: duckdb.DuckDBPyConnection) -> None:
    con = conversation
    add_case(con, "exactly-48h", T0 + timedelta(hours=48), handle="Bob", channel="phone")  # bob: T0+30min
    add_case(con, "48h-1s-after-bob", T0 + timedelta(minutes=30, hours=48), handle="@bob")
    add_case(con, "48h+1s-after-bob", T0 + timedelta(minutes=30, hours=48, seconds=1), handle="bob")
    add_case(con, "before-start", T0 - timedelta(seconds=1), handle="anna")
    add_case(con, "at-start", T0, handle="ANNA")
    add_case(con, "latest-thread-wins", T0 + timedelta(days=1, hours=1), handle="anna")
    add_case(con, "unknown-ref-falls-back", T0 + timedelta(hours=1), handle="anna", conversation_ref=999)
    add_case(con, "no-handle", T0)
    result = link_crm_cases(con, 48)
    assert links(con) == {
        "exactly-48h": ("handle_window", "100:bob", 100),  # 47.5 h after bob's start (a phone case)
        "48h-1s-after-bob": ("handle_window", "100:bob", 100),  # exactly 48 h: inside
        "48h+1s-after-bob": ("none", None, None),
        "before-start": ("none", None, None),
        "at-start": ("handle_window", "100:anna", 100),
        "latest-thread-wins": ("handle_window", "200:anna", 200),  # both of anna's threads qualify
        "unknown-ref-falls-back": ("handle_window", "100:anna", 100),
        "no-handle": ("none", None, None),
    }
    assert result == {"conversation": 0, "handle_window": 5, "none": 3}


def test_window_is_configurable(conversation: duckdb.DuckDBPyConnection) -> None:
    add_case(conversation, "two-hours-later", T0 + timedelta(hours=2), handle="anna")
    assert link_crm_cases(conversation, 1.5)["none"] == 1
    assert link_crm_cases(conversation, 2)["handle_window"] == 1
    with pytest.raises(ConfigError):
        link_crm_cases(conversation, -1)


def test_relinking_follows_late_tweets(con: duckdb.DuckDBPyConnection) -> None:
    add_case(con, "early-case", T0 + timedelta(hours=1), handle="anna", conversation_ref=100)
    assert link_crm_cases(con, 48) == {"conversation": 0, "handle_window": 0, "none": 1}
    add_thread(con, "50:anna", 50, "anna", T0)  # the handle thread arrives first ...
    assert links(con)["early-case"] == ("none", None, None)
    assert link_crm_cases(con, 48)["handle_window"] == 1
    add_tweet(con, 100, 100, "anna", T0)  # ... then the named conversation
    add_thread(con, "100:anna", 100, "anna", T0)
    assert link_crm_cases(con, 48)["conversation"] == 1
    assert links(con)["early-case"] == ("conversation", "100:anna", 100)
    con.execute("DELETE FROM threads")
    assert link_crm_cases(con, 48)["none"] == 1
    assert links(con)["early-case"] == ("none", None, None)


def test_link_counts_on_an_empty_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    assert link_crm_cases(con, 48) == {"conversation": 0, "handle_window": 0, "none": 0}


# ------------------------------------------------------------------------------------------------
# volume


@pytest.mark.slow
def test_200k_rows_load_quickly(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(FIELD_NAMES)
        for i in range(200_000):
            writer.writerow([f"C{i}", ("twitter", "phone", "email")[i % 3], f"2026-01-{1 + i % 28:02d} 10:{i % 60:02d}",
                             "", ("resolved", "open", "")[i % 3], f"K{i}", f"@user{i % 5000}",
                             str(10**18 + i) if i % 3 == 0 else "", "Anna", "T1", "billing", f"{i % 30}.5",
                             str(1 + i % 5), str(i % 11)])
    started = time.perf_counter()
    [report] = load(con, path)
    elapsed = time.perf_counter() - started
    assert counts(report) == (200_000, 200_000, 0, 0, 0)
    assert elapsed < 30, f"200k rows took {elapsed:.1f}s"
