"""Reading CRM exports: CSV formats and the German mapping, line ends and structure, XLSX, Parquet, volume."""

from __future__ import annotations

import csv
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from carepulse.core.errors import DataError
from carepulse.etl.runs import next_ids
from carepulse.etl.sources.crm.files import load_crm_files
from carepulse.etl.sources.crm.mapping import FIELD_NAMES, Mapping, load_mapping, mapping_from_dict
from carepulse.warehouse import Warehouse
from tests.etl.crm_helpers import (
    EXAMPLE_MAPPING,
    FIXTURES,
    HEADER,
    canonical_row,
    case,
    counts,
    load,
    quarantine,
    utc,
    write_csv,
)
from tests.etl.crm_helpers import con as con  # the shared fixture, re-exported for pytest

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
