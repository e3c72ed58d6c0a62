"""Exports of what is on screen: CSV, XLSX and Parquet, each kept intact for whoever reads it next.

- **Ids are text in every format.** A 64-bit tweet id as a spreadsheet number loses its last digits
  (2116497975326373595 comes back as ...888); as text it joins back to the source.
- **XLSX and Parquet keep every text byte for byte.** An XLSX string cell is never a formula (XlsxWriter
  writes it with every conversion off) and Parquet has no formulas, so neither gets an apostrophe.
- **CSV is the only format a spreadsheet evaluates**, so CSV text is neutralised: a cell that starts with
  ``=``, ``+``, ``-``, ``@``, a tab or a CR gets an apostrophe in front, and so does every line inside a
  cell (after a CR or LF, where a naive reader starts a new row); every cell holding a CR or LF is quoted;
  NUL and the other control characters are written as visible ``\\xNN`` escapes (DuckDB cannot read a CSV
  with a NUL). ``neutralise=False`` (``?csv=raw`` on the export link) writes the text as stored, for
  machines that read CSV as data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any, Literal

import pandas as pd

from carepulse.core.spreadsheet import FORMULA_STARTS, neutralise_text
from carepulse.dashboard.formatting import Locale, csv_dialect

__all__ = ["FORMULA_STARTS", "neutralise_text"]  # re-exported: the dashboard's callers import them from here

Format = Literal["csv", "xlsx", "parquet"]
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def is_id_column(name: Any) -> bool:
    """Columns holding ids (``tweet_id``, ``thread_id``, ``conversation_id``, ``id``): written as text."""
    text = str(name)
    return text == "id" or text.endswith("_id")


def ids_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose id columns are text, digits exactly as stored (no float on the way, missing stays missing)."""
    out = frame.copy()
    for column in out.columns:
        if is_id_column(column) and not pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(lambda v: None if v is None or v is pd.NA or v != v else str(v))
            out[column] = out[column].astype(object)
    return out


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot be read as formulas; column names are neutralised too."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.map(neutralise_text).astype(object)
    out.columns = [neutralise_text(str(c)) for c in out.columns]
    return out


def _plain_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Timezone-aware columns as naive UTC (Excel has no zones); the rest unchanged."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def to_csv(frame: pd.DataFrame, locale: Locale, neutralise_formulas: bool = True) -> bytes:
    """UTF-8 with a byte-order mark (Excel reads umlauts right), locale separator and decimal mark.

    Records end in CRLF, so the writer quotes every cell that holds a CR or an LF (with LF endings it
    leaves a lone CR unquoted, and a spreadsheet starts a new row there).
    """
    sep, decimal = csv_dialect(locale)
    data = ids_as_text(frame)
    if neutralise_formulas:
        data = neutralise(data)
    text = data.to_csv(index=False, sep=sep, decimal=decimal, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return text.encode("utf-8-sig")


def to_xlsx(frame: pd.DataFrame, sheet: str = "carepulse") -> bytes:
    """One sheet written by XlsxWriter with every automatic conversion off: text is always a string cell.

    ``strings_to_formulas=False`` keeps ``=...`` a string cell, byte for byte (no apostrophe: a string cell
    is never evaluated); ids are text; ``constant_memory`` streams the rows, so
    a thread export of a large warehouse costs seconds, not minutes (openpyxl took 0.9 ms a row).
    """
    import xlsxwriter

    safe = _plain_times(ids_as_text(frame))
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False, "default_date_format": "yyyy-mm-dd hh:mm:ss", "nan_inf_to_errors": False,
    })
    ws = workbook.add_worksheet(sheet[:31])
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, [str(c) for c in safe.columns])
    for r, row in enumerate(safe.itertuples(index=False, name=None), start=1):
        for c, value in enumerate(map(_cell, row)):
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(r, c, value)
            else:
                ws.write(r, c, value)
    workbook.close()
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()  # numpy scalars
    return value


def to_parquet(frame: pd.DataFrame) -> bytes:
    """Parquet keeps types and every text byte for byte (it has no formulas); ids are text."""
    buffer = io.BytesIO()
    ids_as_text(frame).to_parquet(buffer, index=False)
    return buffer.getvalue()


WRITERS: dict[str, Callable[..., bytes]] = {"csv": to_csv, "xlsx": to_xlsx, "parquet": to_parquet}


def export_bytes(frame: pd.DataFrame, fmt: str, locale: Locale, neutralise_formulas: bool = True) -> bytes:
    if fmt == "csv":
        return to_csv(frame, locale, neutralise_formulas)
    if fmt == "xlsx":
        return to_xlsx(frame)
    if fmt == "parquet":
        return to_parquet(frame)
    raise ValueError(f"unknown export format {fmt!r} (csv, xlsx or parquet)")


def file(frame: pd.DataFrame, basename: str, fmt: str, locale: Locale,
         neutralise_formulas: bool = True) -> tuple[bytes, str, str]:
    """(content, file name, media type) of one export."""
    return export_bytes(frame, fmt, locale, neutralise_formulas), f"{basename}.{fmt}", MEDIA_TYPES[fmt]


def download(frame: pd.DataFrame, basename: str, fmt: str, locale: Locale) -> dict[str, Any]:
    """The ``data`` of a ``dcc.Download``: the file as base64 with its name and media type."""
    import base64

    content, filename, media = file(frame, basename, fmt, locale)
    return {"content": base64.b64encode(content).decode("ascii"), "filename": filename, "type": media,
            "base64": True}
