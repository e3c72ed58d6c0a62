"""Exports neutralise spreadsheet formulas in every format, and keep numbers and dates typed."""

from __future__ import annotations

import base64
import io
from datetime import datetime

import pandas as pd
import pytest
from openpyxl import load_workbook

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


def test_xlsx_holds_no_formula_and_typed_cells() -> None:
    workbook = load_workbook(io.BytesIO(exports.to_xlsx(frame())))
    sheet = workbook.active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.coordinate for c in cells if isinstance(c.value, str) and c.value.startswith(tuple("=+-@\t\r"))]
    header = [c.value for c in sheet[1]]
    assert header == ["text", "n", "share", "at", "maybe"]
    assert sheet["A2"].value == "'=1+2"
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


def test_parquet_keeps_types_and_neutralises_text() -> None:
    back = pd.read_parquet(io.BytesIO(exports.to_parquet(frame())))
    assert list(back["text"])[:2] == ["'=1+2", "'+49 170 1234567"]
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
