"""Exports of what is on screen: CSV, XLSX and Parquet, with spreadsheet formulas neutralised.

Tweet text is user content and almost every reply starts with ``@``; a spreadsheet treats a cell
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula (``pandas.to_excel``
would even write it as one). Every text cell that starts so gets an apostrophe in front, in every
format, so the file is safe wherever it is opened next; numbers and dates stay typed.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, Literal

import pandas as pd

from carepulse.dashboard.formatting import Locale, csv_dialect

Format = Literal["csv", "xlsx", "parquet"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def neutralise_text(value: Any) -> Any:
    """``'=1+2`` for ``=1+2``; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


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


def to_csv(frame: pd.DataFrame, locale: Locale) -> bytes:
    """UTF-8 with a byte-order mark (Excel reads umlauts right), locale separator and decimal mark."""
    sep, decimal = csv_dialect(locale)
    return neutralise(frame).to_csv(index=False, sep=sep, decimal=decimal).encode("utf-8-sig")


def to_xlsx(frame: pd.DataFrame, sheet: str = "carepulse") -> bytes:
    """One sheet written by XlsxWriter with every automatic conversion off: text is always a string cell.

    ``strings_to_formulas=False`` keeps even an un-neutralised ``=...`` a string (neutralising adds
    the apostrophe as well, for whoever re-saves the file); ``constant_memory`` streams the rows, so
    a thread export of a large warehouse costs seconds, not minutes (openpyxl took 0.9 ms a row).
    """
    import xlsxwriter

    safe = _plain_times(neutralise(frame))
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
    """Parquet keeps types; text is neutralised all the same, since it is often opened in a spreadsheet."""
    buffer = io.BytesIO()
    neutralise(frame).to_parquet(buffer, index=False)
    return buffer.getvalue()


WRITERS: dict[str, Callable[..., bytes]] = {"csv": to_csv, "xlsx": to_xlsx, "parquet": to_parquet}


def export_bytes(frame: pd.DataFrame, fmt: str, locale: Locale) -> bytes:
    if fmt == "csv":
        return to_csv(frame, locale)
    if fmt == "xlsx":
        return to_xlsx(frame)
    if fmt == "parquet":
        return to_parquet(frame)
    raise ValueError(f"unknown export format {fmt!r} (csv, xlsx or parquet)")


def file(frame: pd.DataFrame, basename: str, fmt: str, locale: Locale) -> tuple[bytes, str, str]:
    """(content, file name, media type) of one export."""
    return export_bytes(frame, fmt, locale), f"{basename}.{fmt}", MEDIA_TYPES[fmt]


def download(frame: pd.DataFrame, basename: str, fmt: str, locale: Locale) -> dict[str, Any]:
    """The ``data`` of a ``dcc.Download``: the file as base64 with its name and media type."""
    import base64

    content, filename, media = file(frame, basename, fmt, locale)
    return {"content": base64.b64encode(content).decode("ascii"), "filename": filename, "type": media,
            "base64": True}
