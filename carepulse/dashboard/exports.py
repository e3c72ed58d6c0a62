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
from typing import Any, Literal

import pandas as pd

from carepulse.core.spreadsheet import neutralise_text
from carepulse.dashboard.formatting import Locale, csv_dialect

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


def _plain_times(frame: pd.DataFrame, time_zone: str | None = None) -> pd.DataFrame:
    """Every time column says its zone in the header: zone-aware ones become naive UTC (``started_at (UTC)``),
    naive ones (local times of the configured zone) are named with it (``started_at (Europe/Berlin)``).
    Excel has no zones, and a bare time would be read as whatever the reader assumes."""
    out = frame.copy()
    renamed = {}
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert("UTC").dt.tz_localize(None)
            renamed[column] = f"{column} (UTC)"
        elif time_zone and pd.api.types.is_datetime64_dtype(out[column].dtype):
            renamed[column] = f"{column} ({time_zone})"
    return out.rename(columns=renamed)


def to_csv(frame: pd.DataFrame, locale: Locale, neutralise_formulas: bool = True,
           time_zone: str | None = None) -> bytes:
    """UTF-8 with a byte-order mark (Excel reads umlauts right), locale separator and decimal mark.

    Records end in CRLF, so the writer quotes every cell that holds a CR or an LF (with LF endings it
    leaves a lone CR unquoted, and a spreadsheet starts a new row there).
    """
    sep, decimal = csv_dialect(locale)
    data = _plain_times(ids_as_text(frame), time_zone)
    if neutralise_formulas:
        data = neutralise(data)
    text = data.to_csv(index=False, sep=sep, decimal=decimal, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return text.encode("utf-8-sig")


def to_xlsx(frame: pd.DataFrame, sheet: str = "carepulse", about: dict[str, str] | None = None,
            time_zone: str | None = None) -> bytes:
    """One sheet written by XlsxWriter with every automatic conversion off: text is always a string cell.

    ``strings_to_formulas=False`` keeps ``=...`` a string cell, byte for byte (no apostrophe: a string cell
    is never evaluated); ids are text; ``constant_memory`` streams the rows, so
    a thread export of a large warehouse costs seconds, not minutes (openpyxl took 0.9 ms a row).
    """
    import xlsxwriter

    safe = _plain_times(ids_as_text(frame), time_zone)
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
    if about:
        sheet_about = workbook.add_worksheet("about")
        for r, (key, value) in enumerate(about.items()):
            sheet_about.write_string(r, 0, key)
            sheet_about.write_string(r, 1, value)
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


def to_parquet(frame: pd.DataFrame, about: dict[str, str] | None = None) -> bytes:
    """Parquet keeps types, time zones and every text byte for byte (it has no formulas); ids are text;
    ``about`` goes into the file's key-value metadata under ``carepulse``."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(ids_as_text(frame), preserve_index=False)
    if about:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               b"carepulse": json.dumps(about, ensure_ascii=False).encode()})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()




def export_bytes(frame: pd.DataFrame, fmt: str, locale: Locale, neutralise_formulas: bool = True,
                 about: dict[str, str] | None = None, time_zone: str | None = None) -> bytes:
    """The file; ``about`` (filters, as-of, snapshot, version, definitions) rides along as an "about" sheet
    (XLSX) or file metadata (Parquet). CSV has nowhere to put it without breaking its readers."""
    if fmt == "csv":
        return to_csv(frame, locale, neutralise_formulas, time_zone)
    if fmt == "xlsx":
        return to_xlsx(frame, about=about, time_zone=time_zone)
    if fmt == "parquet":
        return to_parquet(frame, about)
    raise ValueError(f"unknown export format {fmt!r} (csv, xlsx or parquet)")


def file(frame: pd.DataFrame, basename: str, fmt: str, locale: Locale, neutralise_formulas: bool = True,
         about: dict[str, str] | None = None, time_zone: str | None = None) -> tuple[bytes, str, str]:
    """(content, file name, media type) of one export; naive times are local times of ``time_zone``."""
    content = export_bytes(frame, fmt, locale, neutralise_formulas, about, time_zone)
    return content, f"{basename}.{fmt}", MEDIA_TYPES[fmt]


def download(frame: pd.DataFrame, basename: str, fmt: str, locale: Locale) -> dict[str, Any]:
    """The ``data`` of a ``dcc.Download``: the file as base64 with its name and media type."""
    import base64

    content, filename, media = file(frame, basename, fmt, locale)
    return {"content": base64.b64encode(content).decode("ascii"), "filename": filename, "type": media,
            "base64": True}
