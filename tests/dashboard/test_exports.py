"""Exports keep data intact (ids as text; XLSX and Parquet text byte for byte), CSV never starts a formula,
and numbers and dates stay typed."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from carepulse.dashboard import exports

DANGEROUS = ["=1+2", "+49 170 1234567", "-AB", "@nordfunk_hilft hilfe", "\tx", "\ry", "=HYPERLINK(\"http://x\")"]


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "text": [*DANGEROUS, "plain text"],
        "n": list(range(8)),
        "share": [0.5] * 8,
        "at": [datetime(2026, 11, 3, 23, 11)] * 8,
        "maybe": [None, "=x", None, "ok", None, None, None, None],
    })


def test_neutralise_prefixes_an_apostrophe_to_formula_starts_only() -> None:
    out = exports.neutralise(frame())
    assert list(out["text"]) == ["'" + t for t in DANGEROUS] + ["plain text"]
    maybe = list(out["maybe"])[:4]
    assert pd.isna(maybe[0]) and pd.isna(maybe[2]) and maybe[1] == "'=x" and maybe[3] == "ok"
    assert list(out["n"]) == list(range(8))  # numbers untouched (a negative number is not text)
    assert frame()["text"][0] == "=1+2"  # the input is not changed


def test_neutralise_covers_column_names() -> None:
    out = exports.neutralise(pd.DataFrame({"=cmd": ["a"]}))
    assert list(out.columns) == ["'=cmd"]


def test_xlsx_holds_no_formula_keeps_text_byte_for_byte_and_typed_cells() -> None:
    workbook = load_workbook(io.BytesIO(exports.to_xlsx(frame())))
    sheet = workbook.active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # string cells: never evaluated
    header = [c.value for c in sheet[1]]
    assert header == ["text", "n", "share", "at", "maybe"]
    # OOXML stores a control character as _xHHHH_ (Excel decodes it); openpyxl leaves inline strings so
    texts = [unescape(sheet.cell(r, 1).value) for r in range(2, 10)]
    assert texts == [*DANGEROUS, "plain text"]  # byte for byte: no apostrophe
    assert all(sheet.cell(r, 1).data_type == "s" for r in range(2, 10))
    assert sheet["B3"].value == 1 and sheet["C2"].value == 0.5
    assert sheet["D2"].value == datetime(2026, 11, 3, 23, 11)
    assert sheet["E2"].value is None


def test_pandas_alone_would_write_a_formula() -> None:
    """Why the export writes cell by cell: pandas' own to_excel turns '=...' text into a live formula."""
    buffer = io.BytesIO()
    pd.DataFrame({"text": ["=1+2"]}).to_excel(buffer, index=False)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet is not None and sheet["A2"].data_type == "f"


@pytest.mark.parametrize(("locale", "sep", "decimal"), [("de", ";", "0,5"), ("en", ",", "0.5")])
def test_csv_uses_the_locale_dialect_and_neutralises(locale: str, sep: str, decimal: str) -> None:
    data = exports.to_csv(frame(), locale)  # type: ignore[arg-type]
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads umlauts right
    text = data.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == sep.join(["text", "n", "share", "at", "maybe"])
    assert lines[1].startswith("'=1+2" + sep) and decimal in lines[1]
    assert "\n=" not in text and not any(line.startswith(("=", "+", "-", "@")) for line in lines)


def test_parquet_keeps_types_and_text_byte_for_byte() -> None:
    back = pd.read_parquet(io.BytesIO(exports.to_parquet(frame())))
    assert list(back["text"]) == [*DANGEROUS, "plain text"]
    assert back["n"].dtype.kind == "i" and back["share"].dtype.kind == "f"
    assert back["at"].dtype.kind == "M"


def test_timezone_aware_columns_go_to_xlsx_as_utc() -> None:
    aware = pd.DataFrame({"at": pd.to_datetime(["2026-11-03 22:11:00+00:00"])})
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(aware))).active
    assert sheet is not None and sheet["A2"].value == datetime(2026, 11, 3, 22, 11)


def test_download_payload() -> None:
    payload = exports.download(frame(), "carepulse-threads", "xlsx", "de")
    assert payload["filename"] == "carepulse-threads.xlsx" and payload["base64"] is True
    assert base64.b64decode(payload["content"])[:2] == b"PK"
    with pytest.raises(ValueError, match="unknown export format"):
        exports.export_bytes(frame(), "pdf", "de")


IDS = [2116497975326373595, 9223372036854775807, 1]
HOSTILE = ["ok\r=1+1", "a\n+cmd|' /C calc'!A0", "x\r\n@SUM(A1)", "nul\x00byte", "\x07bell", "plain"]


def id_frame() -> pd.DataFrame:
    return pd.DataFrame({"tweet_id": pd.array(IDS, dtype="int64"), "conversation_id": pd.array([IDS[0], None, 5],
                                                                                              dtype="Int64"),
                         "text": HOSTILE[:3], "more": HOSTILE[3:]})


def test_ids_come_back_exactly_from_every_format(tmp_path: Path) -> None:
    """2116497975326373595 as a spreadsheet number comes back as ...888: ids are text in every format."""
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(id_frame()))).active
    assert sheet is not None
    assert [sheet.cell(r, 1).value for r in range(2, 5)] == [str(i) for i in IDS]
    assert [sheet.cell(r, 2).value for r in range(2, 5)] == [str(IDS[0]), None, "5"]
    parquet = pd.read_parquet(io.BytesIO(exports.to_parquet(id_frame())))
    assert list(parquet["tweet_id"]) == [str(i) for i in IDS]
    csv_file = tmp_path / "t.csv"
    csv_file.write_bytes(exports.to_csv(id_frame(), "en"))
    back = pd.read_csv(csv_file, dtype=str, keep_default_na=False)
    assert list(back["tweet_id"]) == [str(i) for i in IDS]
    con = duckdb.connect()
    stored = con.execute(f"SELECT tweet_id FROM read_csv('{csv_file}', all_varchar = true)").fetchall()
    assert [r[0] for r in stored] == [str(i) for i in IDS]


def test_csv_quotes_line_breaks_neutralises_every_line_and_escapes_control_characters(tmp_path: Path) -> None:
    data = exports.to_csv(id_frame(), "en")
    text = data.decode("utf-8-sig")
    # Read as a spreadsheet would: records by the csv rules; then no cell and no line inside a cell starts
    # a formula, and a naive split on line breaks finds no formula start either.
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 4 and all(len(r) == 4 for r in rows)
    cells = [c for r in rows[1:] for c in r]
    for cell in cells:
        for line in re.split(r"\r\n|\r|\n", cell):
            assert not line.startswith(("=", "+", "-", "@", "\t")), cell
    for physical in re.split(r"\r\n|\r|\n", text):
        for cell in physical.split(","):
            assert not cell.lstrip('"').startswith(("=", "+", "@")), physical
    assert rows[1][2] == "ok\r'=1+1" and rows[2][2] == "a\n'+cmd|' /C calc'!A0"
    assert rows[1][3] == "nul\\x00byte" and rows[2][3] == "\\x07bell"
    csv_file = tmp_path / "t.csv"
    csv_file.write_bytes(data)  # DuckDB reads it (a NUL made the file unreadable)
    assert duckdb.connect().execute(f"SELECT count(*) FROM read_csv('{csv_file}')").fetchall() == [(3,)]


def test_csv_for_machines_keeps_text_as_stored(tmp_path: Path) -> None:
    csv_file = tmp_path / "raw.csv"
    csv_file.write_bytes(exports.to_csv(id_frame().drop(columns=["more"]), "en", neutralise_formulas=False))
    back = pd.read_csv(csv_file, dtype=str, keep_default_na=False)
    assert list(back["text"]) == HOSTILE[:3]


# ---- a table of metrics (Explore's): human headers, units, machine names, the total apart ------------------

TABLE_METRICS = ["threads", "response_rate", "first_response_median_s", "sla_met_share"]


@pytest.fixture(scope="module")
def headline(twcs_db: Path) -> dict[str, Any]:
    """The engine's answer by account over the public TWCS sample: what Explore's table export gets."""
    from carepulse.core.config import Settings
    from carepulse.metrics import engine
    from carepulse.warehouse import Warehouse

    return engine.headline(TABLE_METRICS, "account", db=Warehouse(twcs_db).reader(), settings=Settings(db=twcs_db))


def synthetic() -> dict[str, Any]:
    """Units the sample has none of (euros, months, FTE, min/week) and group names that look like formulas."""
    values = {"cases": 69.0, "cost_per_case": 12.3456, "cost_per_case_ci_low": 9.999, "resolution_rate": 0.5,
              "first_response_trend_s_per_week": -30.0, "staffing_fte_x1": 3.25, "pilot_payback_month": "2027-03"}
    return {"by": "channel", "as_of": "2026-11-03T22:47:00Z", "filters": {"date_from": "2026-06-01"},
            "total": values, "groups": {name: {**values, "cases": 7} for name in DANGEROUS[:4]}}


def xlsx_sheets(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    workbook = load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets}


def in_xlsx(value: float) -> float:
    """What an XLSX number cell holds: XlsxWriter writes 16 significant digits (Excel shows 15)."""
    return float(f"{value:.16G}")


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", ["Account", "Threads", "Response rate (%)", "Response rate, 95% from (%)", "Response rate, 95% to (%)",
            "Response rate, n", "First response, median (min)", "First response, median, 95% from (min)"]),
    ("de", ["Konto", "Threads", "Antwortquote (%)", "Antwortquote, 95 % von (%)", "Antwortquote, 95 % bis (%)",
            "Antwortquote, n", "Erstantwort, Median (Min.)", "Erstantwort, Median, 95 % von (Min.)"]),
])
def test_table_headers_speak_the_locale_and_the_machine_names_come_back(headline: dict[str, Any], locale: str,
                                                                        expected: list[str]) -> None:
    sheets = xlsx_sheets(exports.table_bytes(headline, "xlsx", locale))  # type: ignore[arg-type]
    assert list(sheets) == ["data", "total", "columns", "about"]
    header = list(sheets["data"][0])
    assert header[:8] == expected and len(set(header)) == len(header)
    assert sheets["total"][0] == sheets["data"][0]
    # the sheet "columns": human header -> machine name -> unit -> definition, one row per data column
    assert sheets["columns"][0][:4] == ("header", "name", "unit", "definition")
    mapping = {row[0]: row[1:] for row in sheets["columns"][1:]}
    assert [mapping[h][0] for h in header] == ["account", *headline["total"]]
    assert mapping[expected[6]][:2] == ("first_response_median_s", "min" if locale == "en" else "Min.")
    assert mapping[expected[6]][2].startswith("Median first-response time")
    csv_header = exports.table_bytes(headline, "csv", locale).decode("utf-8-sig").splitlines()[0]  # type: ignore[arg-type]
    assert next(csv.reader([csv_header], delimiter=";" if locale == "de" else ",")) == header


def test_table_for_people_converts_by_the_unit(headline: dict[str, Any], tmp_path: Path) -> None:
    """Minutes are seconds / 60 and percent shares x 100 (numbers, not text); counts are integers."""
    groups = list(headline["groups"].values())
    sheet = xlsx_sheets(exports.table_bytes(headline, "xlsx", "en"))["data"]
    col = {name: i for i, name in enumerate(sheet[0])}
    assert len(sheet) - 1 == len(groups)  # no total row among the groups
    for row, values in zip(sheet[1:], groups, strict=True):
        seconds = values["first_response_median_s"]
        assert row[col["First response, median (min)"]] == (None if seconds is None else in_xlsx(seconds / 60))
        assert row[col["Response rate (%)"]] == in_xlsx(values["response_rate"] * 100)
        assert isinstance(row[col["Threads"]], int) and row[col["Threads"]] == values["threads"]
        assert isinstance(row[col["Response rate, n"]], int)
    # CSV for people: the same numbers, read back exactly by pandas and DuckDB, in the German dialect
    path = tmp_path / "table.csv"
    path.write_bytes(exports.table_bytes(headline, "csv", "de"))
    back = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    minutes = [None if v["first_response_median_s"] is None else v["first_response_median_s"] / 60 for v in groups]
    assert [None if pd.isna(v) else v for v in back["Erstantwort, Median (Min.)"]] == minutes  # bit for bit
    assert list(back["Antwortquote (%)"]) == [v["response_rate"] * 100 for v in groups]
    assert back["Threads"].dtype.kind == "i" and back["Antwortquote, n"].dtype.kind == "i"
    assert ".0;" not in path.read_text(encoding="utf-8-sig").split("\n")[1]  # 281, not 281.0
    con = duckdb.connect()
    stored = con.execute(f"SELECT \"Threads\", \"Antwortquote (%)\" FROM read_csv('{path}', delim=';', "
                         "decimal_separator=',', header=true)").fetchall()
    assert stored == [(v["threads"], v["response_rate"] * 100) for v in groups]
    assert con.execute(f"SELECT typeof(\"Threads\") FROM read_csv('{path}', delim=';', decimal_separator=',') "
                       "LIMIT 1").fetchone() == ("BIGINT",)


def test_every_unit_has_its_export_conversion() -> None:
    from typing import get_args

    from carepulse.metrics import registry, units

    for unit in get_args(registry.Unit):
        export = units.UNITS[unit].export
        assert export.dtype in ("int", "float", "text")
    assert units.UNITS["seconds"].export.human(741.0) == 741.0 / 60
    assert units.UNITS["share"].export.human(0.651246) == 0.651246 * 100
    assert units.UNITS["count"].export.human(69.0) == 69 and isinstance(units.UNITS["count"].export.human(69.0), int)
    assert units.UNITS["EUR"].export.human(12.3456) == 12.35
    assert units.UNITS["seconds"].export.machine(741.0) == 741.0 and units.UNITS["seconds"].export.human(None) is None


def test_table_units_without_the_sample(tmp_path: Path) -> None:
    """Euros to the cent, months as text, FTE and min/week with their unit; headers in German too."""
    result = synthetic()
    for locale, header in (("en", ["Channel", "CRM cases", "Cost per case (€)", "Cost per case, 95% from (€)",
                                   "Resolution rate (%)", "First-response trend (min/week)",
                                   "Agents needed, today's volume (FTE)", "Payback month"]),
                           ("de", ["Kanal", "CRM-Fälle", "Kosten pro Fall (€)", "Kosten pro Fall, 95 % von (€)",
                                   "Lösungsquote (%)", "Trend der Erstantwort (Min./Woche)",
                                   "Benötigte Agenten, heutiges Volumen (VZÄ)", "Amortisationsmonat"])):
        sheets = xlsx_sheets(exports.table_bytes(result, "xlsx", locale))  # type: ignore[arg-type]
        assert list(sheets["data"][0]) == header
        total_name = "(total)" if locale == "en" else "(gesamt)"
        assert sheets["total"][1] == (total_name, 69, 12.35, 10.0, 50.0, -0.5, 3.25, "2027-03")
        assert isinstance(sheets["total"][1][1], int)
    path = tmp_path / "t.csv"
    path.write_bytes(exports.table_bytes(result, "csv", "en"))
    back = pd.read_csv(path, dtype={"Payback month": str})
    assert list(back["Cost per case (€)"]) == [12.35] * 4 and list(back["CRM cases"]) == [7] * 4
    assert list(back["Payback month"]) == ["2027-03"] * 4


def test_the_total_is_a_sheet_of_its_own_equal_to_the_engines(headline: dict[str, Any]) -> None:
    sheets = xlsx_sheets(exports.table_bytes(headline, "xlsx", "en"))
    header, total = sheets["total"][0], sheets["total"][1]
    assert len(sheets["total"]) == 2 and total[0] == "(total)"
    units_of = {"threads": "count", "response_rate": "share", "first_response_median_s": "seconds",
                "sla_met_share": "share"}
    engine_total = headline["total"]
    by_header = dict(zip(header, total, strict=True))
    columns = {row[1]: row[0] for row in sheets["columns"][1:]}
    for name, value in engine_total.items():
        metric = next((m for m in units_of if name.startswith(m)), None)
        assert metric is not None
        unit = "count" if name.endswith("_n") else units_of[metric]
        expected = {"count": value, "share": in_xlsx(value * 100), "seconds": in_xlsx(value / 60)}[unit]
        assert by_header[columns[name]] == expected, name
    assert "(total)" not in [row[0] for row in sheets["data"]]
    about = dict(sheets["about"])
    assert "sheet 'total'" in about["total"]


def test_csv_and_parquet_leave_the_total_out_and_say_so(headline: dict[str, Any], tmp_path: Path) -> None:
    import json

    import pyarrow.parquet as pq

    groups = len(headline["groups"])
    text = exports.table_bytes(headline, "csv", "en").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == groups + 1 and "(total)" not in [r[0] for r in rows]
    path = tmp_path / "t.parquet"
    path.write_bytes(exports.table_bytes(headline, "parquet", "en"))
    table = pq.read_table(path)
    assert table.num_rows == groups
    about = json.loads(table.schema.metadata[b"carepulse"])
    assert about["total"].startswith("not in this file") and "XLSX" in about["total"]
    # without a breakdown the one row is the whole selection: every format has it
    whole = {**headline, "by": None, "groups": {}}
    assert pq.read_table(io.BytesIO(exports.table_bytes(whole, "parquet", "en"))).num_rows == 1
    lines = exports.table_bytes(whole, "csv", "de").decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Auswahl;Threads;") and lines[1].startswith("gesamte Auswahl;")


def test_parquet_and_raw_csv_are_for_machines(headline: dict[str, Any], tmp_path: Path) -> None:
    """Machine names and the registry's values (seconds, shares 0..1); the human headers in the metadata."""
    import json

    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    path.write_bytes(exports.table_bytes(headline, "parquet", "de"))
    table = pq.read_table(path)
    assert table.column_names == ["account", *headline["total"]]
    assert str(table.schema.field("threads").type) == "int64"
    assert str(table.schema.field("response_rate_n").type) == "int64"
    back = table.to_pandas()
    groups = headline["groups"]
    assert list(back["account"]) == list(groups)
    assert list(back["sla_met_share"]) == [v["sla_met_share"] for v in groups.values()]
    assert [None if pd.isna(v) else v for v in back["first_response_median_s"]] == [
        v["first_response_median_s"] for v in groups.values()]
    columns = {c["name"]: c for c in json.loads(table.schema.metadata[b"carepulse.columns"])}
    assert columns["first_response_median_s"]["header_en"] == "First response, median (min)"
    assert columns["first_response_median_s"]["header_de"] == "Erstantwort, Median (Min.)"
    assert columns["first_response_median_s"]["unit"] == "seconds"
    assert columns["first_response_median_s"]["for_people"]["per"] == 60
    assert columns["response_rate"]["for_people"]["times"] == 100
    con = duckdb.connect()
    kv = dict(con.execute(f"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{path}')").fetchall())
    assert json.loads(kv["carepulse.columns"])[0]["header_de"] == "Konto"
    assert con.execute(f"SELECT sum(threads) FROM '{path}'").fetchone() == (
        sum(v["threads"] for v in groups.values()),)
    raw = tmp_path / "raw.csv"
    raw.write_bytes(exports.table_bytes(headline, "csv", "en", neutralise_formulas=False))
    machine = pd.read_csv(raw)
    assert list(machine.columns) == ["account", *headline["total"]]
    assert list(machine["response_rate"]) == [v["response_rate"] for v in groups.values()]


def test_table_text_stays_intact_and_csv_starts_no_formula(tmp_path: Path) -> None:
    result = synthetic()
    names = list(result["groups"])
    sheet = load_workbook(io.BytesIO(exports.table_bytes(result, "xlsx", "en")))["data"]
    assert [unescape(str(sheet.cell(r, 1).value)) for r in range(2, 6)] == names  # byte for byte
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    parquet = pd.read_parquet(io.BytesIO(exports.table_bytes(result, "parquet", "en")))
    assert list(parquet["channel"]) == names
    text = exports.table_bytes(result, "csv", "en").decode("utf-8-sig")
    for physical in re.split(r"\r\n|\r|\n", text):
        for cell in physical.split(","):
            assert not cell.lstrip('"').startswith(("=", "+", "@")), physical
            if cell.startswith("-"):
                float(cell)  # a negative number is a number, not a formula
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    assert duckdb.connect().execute(f"SELECT count(*) FROM read_csv('{path}')").fetchall() == [(4,)]


def test_thread_ids_come_back_as_stored_from_every_format(twcs_db: Path, tmp_path: Path) -> None:
    """The thread export over a real warehouse: ids read back by openpyxl, pandas, pyarrow and DuckDB
    equal the warehouse's ids as text."""
    from carepulse.core.config import Settings
    from carepulse.metrics import views
    from carepulse.warehouse import Warehouse

    reader = Warehouse(twcs_db).reader()
    frame = views.threads(None, db=reader, settings=Settings(db=twcs_db), limit=None)
    stored = dict(reader.connection().execute(
        "SELECT CAST(thread_id AS VARCHAR), CAST(conversation_id AS VARCHAR) FROM threads").fetchall())
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(frame))).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    from_xlsx = {r[header.index("thread_id")]: r[header.index("conversation_id")] for r in rows}
    assert from_xlsx == stored
    parquet, csv_file = tmp_path / "t.parquet", tmp_path / "t.csv"
    parquet.write_bytes(exports.to_parquet(frame))
    csv_file.write_bytes(exports.to_csv(frame, "de"))
    back = pd.read_parquet(parquet)
    assert dict(zip(back["thread_id"], back["conversation_id"], strict=True)) == stored
    back = pd.read_csv(csv_file, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert dict(zip(back["thread_id"], back["conversation_id"], strict=True)) == stored
    con = duckdb.connect()
    for source in (f"'{parquet}'", f"read_csv('{csv_file}', delim=';', all_varchar=true)"):
        assert dict(con.execute(f"SELECT thread_id, conversation_id FROM {source}").fetchall()) == stored
