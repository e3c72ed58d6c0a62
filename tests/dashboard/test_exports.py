"""Exports keep data intact (ids as text; XLSX and Parquet text byte for byte), CSV never starts a formula,
and numbers and dates stay typed."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import datetime
from pathlib import Path

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
