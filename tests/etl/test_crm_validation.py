"""CRM record validation and quarantine, reloads, updates and accounting, and the mapping file."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import carepulse.core.config
from carepulse.core.errors import ConfigError
from carepulse.etl.runs import next_ids
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
from tests.etl.crm_helpers import (
    EXAMPLE_MAPPING,
    FIXTURES,
    HEADER,
    REPO,
    canonical_row,
    case,
    counts,
    load,
    quarantine,
    table,
    utc,
    write_csv,
)
from tests.etl.crm_helpers import con as con  # the shared fixture, re-exported for pytest

# ------------------------------------------------------------------------------------------------
# field values and quarantine


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
