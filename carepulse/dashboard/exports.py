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
- **A table of metrics (Explore's) speaks to people and to machines** (:func:`table_file`, docs/exports.md).
  Files for people (XLSX, CSV) have human headers in the locale's language with the unit, and numbers in
  that unit (minutes, percent, whole counts, euros to the cent): each unit's conversion comes from
  :mod:`carepulse.metrics.units`, never from a column name here. Files for machines (Parquet,
  ``?csv=raw``) have the machine names and the registry's values. XLSX maps each header to its machine
  name, unit and definition on a sheet "columns", and Parquet carries the same in its metadata. The total
  of the selection is not a row among the groups, where a sum or a chart would count it twice: XLSX
  has it on a sheet "total"; CSV and Parquet leave it out and say so.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from carepulse.core.spreadsheet import neutralise_text
from carepulse.core.text import Text, say
from carepulse.dashboard.formatting import Locale, csv_dialect
from carepulse.dashboard.i18n import N_, _
from carepulse.metrics import labels_de, units
from carepulse.metrics.context import BREAKDOWNS
from carepulse.metrics.registry import METRICS

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
            time_zone: str | None = None, sheets: Mapping[str, pd.DataFrame] | None = None) -> bytes:
    """The frame on the first sheet, written by XlsxWriter with every automatic conversion off: text is
    always a string cell. ``sheets`` (name -> frame) follow it, written the same way, then "about".

    ``strings_to_formulas=False`` keeps ``=...`` a string cell, byte for byte (no apostrophe: a string cell
    is never evaluated); ids are text; ``constant_memory`` streams the rows, so
    a thread export of a large warehouse costs seconds, not minutes (openpyxl took 0.9 ms a row).
    """
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False, "default_date_format": "yyyy-mm-dd hh:mm:ss", "nan_inf_to_errors": False,
    })
    for name, table in {sheet: frame, **(sheets or {})}.items():
        ws = workbook.add_worksheet(name[:31])
        ws.freeze_panes(1, 0)
        _write_sheet(ws, _plain_times(ids_as_text(table), time_zone))
    if about:
        sheet_about = workbook.add_worksheet("about")
        for r, (key, value) in enumerate(about.items()):
            sheet_about.write_string(r, 0, key)
            sheet_about.write_string(r, 1, value)
    workbook.close()
    return buffer.getvalue()


def _write_sheet(ws: Any, frame: pd.DataFrame) -> None:
    """Header row, then the rows cell by cell: text as string cells, missing values as empty cells."""
    ws.write_row(0, 0, [str(c) for c in frame.columns])
    for r, row in enumerate(frame.itertuples(index=False, name=None), start=1):
        for c, value in enumerate(map(_cell, row)):
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(r, c, value)
            else:
                ws.write(r, c, value)


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


def to_parquet(frame: pd.DataFrame, about: dict[str, str] | None = None,
               metadata: Mapping[str, Any] | None = None) -> bytes:
    """Parquet keeps types, time zones and every text byte for byte (it has no formulas); ids are text;
    ``about`` goes into the file's key-value metadata under ``carepulse``, and each of ``metadata`` under
    its key, as JSON."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(ids_as_text(frame), preserve_index=False)
    extra = {**({"carepulse": about} if about else {}), **(metadata or {})}
    if extra:
        table = table.replace_schema_metadata({
            **(table.schema.metadata or {}),
            **{key.encode(): json.dumps(value, ensure_ascii=False).encode() for key, value in extra.items()}})
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
    return _payload(*file(frame, basename, fmt, locale))


def _payload(content: bytes, filename: str, media: str) -> dict[str, Any]:
    import base64

    return {"content": base64.b64encode(content).decode("ascii"), "filename": filename, "type": media,
            "base64": True}


# ---- a table of metrics (Explore's): human headers and units, machine names, the total apart ---------------

TOTAL = "(total)"
WHOLE_SELECTION = "whole selection"
SELECTION = "selection"
"""The group column's name without a breakdown; its one row is the whole selection."""
SUFFIXES: tuple[tuple[str, str], ...] = (("_ci_low", "95% from"), ("_ci_high", "95% to"), ("_n", "n"),
                                         ("_p", "p"))
"""The columns the engine writes beside a metric's value (``engine.headline``), and the word each header adds."""
FOR_PEOPLE = "for people"
FOR_MACHINES = "for machines"


def _de(english: str) -> str:
    """The German of one of the export's own phrases (``labels_de.PHRASES``); unknown ones stay English."""
    return labels_de.PHRASES.get(english, english)


@dataclass(frozen=True)
class ExportColumn:
    """One column of a table export: its machine name, the registry unit of its values (None for a column
    that is no metric value, such as the group), its labels in English and German, and its definition."""

    name: str
    unit: str | None
    label_en: str
    label_de: str
    definition: str

    @property
    def conversion(self) -> units.ExportUnit | None:
        """The unit's own export conversion (:mod:`carepulse.metrics.units`), asked, never decided here."""
        return None if self.unit is None else units.unit_format(self.unit).export

    def unit_label(self, locale: Locale) -> str:
        return self.conversion.label(locale) if self.conversion else ""

    def header(self, locale: Locale) -> str:
        """``First response, median (min)`` / ``Erste Antwort, Median (Min.)``: the label, then the unit
        the column's values have in a file for people."""
        label = self.label_de if locale == "de" else self.label_en
        unit = self.unit_label(locale)
        return f"{label} ({unit})" if unit else label

    def value(self, value: Any, for_people: bool) -> Any:
        """The cell: converted by the unit for people, typed only for machines; no unit, as given."""
        if self.conversion is None:
            return None if units.missing(value) else value
        return self.conversion.human(value) if for_people else self.conversion.machine(value)


def describe_column(name: str) -> ExportColumn:
    """A column of the engine's table by its machine name: a metric (its registry label, unit and
    description, the German label of ``labels_de``), a value beside a metric (interval ends in the
    metric's unit, ``_n`` a count, ``_p`` a plain number), a breakdown, or else a column kept as named."""
    metrics = {m.name: m for m in METRICS}
    m = metrics.get(name)
    if m is not None:
        return ExportColumn(name, m.unit, m.label, labels_de.LABELS.get(name, m.label), m.description)
    for suffix, word in SUFFIXES:
        m = metrics.get(name.removesuffix(suffix)) if name.endswith(suffix) else None
        if m is None:
            continue
        unit = {"_n": "count", "_p": None}.get(suffix, m.unit)
        definition = {
            "_ci_low": f"Lower end of the 95% interval of {m.name}.",
            "_ci_high": f"Upper end of the 95% interval of {m.name}.",
            "_n": f"The n behind {m.name}: the observations its value and interval come from.",
            "_p": f"The p-value of the test behind {m.name}.",
        }[suffix]
        return ExportColumn(name, unit, f"{m.label}, {word}",
                            f"{labels_de.LABELS.get(m.name, m.label)}, {_de(word)}", definition)
    if name in BREAKDOWNS:
        return ExportColumn(name, None, name.capitalize(), labels_de.BREAKDOWNS.get(name, name),
                            f"The group of the breakdown by {name}.")
    if name == SELECTION:
        return ExportColumn(name, None, "Selection", _de("Selection"), "The whole selection (no breakdown).")
    return ExportColumn(name, None, name, name, "")


def table_rows(result: Mapping[str, Any]) -> tuple[list[ExportColumn], list[dict[str, Any]], dict[str, Any]]:
    """The columns, the group rows and the total row of an engine headline result (``engine.headline``).

    Without a breakdown the one row is the whole selection, which is also the total."""
    by = result.get("by")
    key = str(by) if by else SELECTION
    total = {key: TOTAL if by else WHOLE_SELECTION, **result["total"]}
    rows = [{key: group, **values} for group, values in result["groups"].items()] if by else [total]
    names = list(dict.fromkeys([key, *result["total"], *(c for row in rows for c in row)]))
    return [describe_column(n) for n in names], rows, total


def table_frame(columns: Sequence[ExportColumn], rows: Sequence[Mapping[str, Any]], locale: Locale,
                for_people: bool) -> pd.DataFrame:
    """The rows as typed columns: counts as integers (nullable), numbers as floats, text as objects.

    For people the headers are :meth:`ExportColumn.header` and the values converted by their unit; for
    machines the headers are the machine names and the values the registry's."""
    data: dict[str, Any] = {}
    dtypes: dict[str, Any] = {"int": "Int64", "float": "Float64", "text": object}
    for column in columns:
        values = [column.value(row.get(column.name), for_people) for row in rows]
        if for_people and column.conversion is None and locale == "de":
            values = [_de(v) if v in (TOTAL, WHOLE_SELECTION) else v for v in values]
        dtype: Any = dtypes[column.conversion.dtype] if column.conversion else object
        data[column.header(locale) if for_people else column.name] = pd.array(values, dtype=dtype)
    return pd.DataFrame(data)


def columns_sheet(columns: Sequence[ExportColumn], locale: Locale) -> pd.DataFrame:
    """The XLSX sheet "columns": each human header with its machine name, the unit of its values in this
    file, its definition, and how the number came from the registry's value (the way back for machines)."""
    return pd.DataFrame({
        "header": [c.header(locale) for c in columns],
        "name": [c.name for c in columns],
        "unit": [c.unit_label(locale) or (c.unit or "") for c in columns],
        "definition": [c.definition for c in columns],
        "from the registry's value": [c.conversion.conversion() if c.conversion else "as is" for c in columns],
        "registry unit": [c.unit or "" for c in columns],
    }, dtype=object)


def columns_metadata(columns: Sequence[ExportColumn]) -> list[dict[str, Any]]:
    """Parquet's ``carepulse.columns`` metadata: per column its machine name, registry unit, human headers
    in English and German, the unit a file for people shows and how, and the definition."""
    out = []
    for c in columns:
        conversion = c.conversion
        out.append({
            "name": c.name, "unit": c.unit, "header_en": c.header("en"), "header_de": c.header("de"),
            "label_en": c.label_en, "label_de": c.label_de, "definition": c.definition,
            "for_people": None if conversion is None else {
                "unit_en": conversion.label_en, "unit_de": conversion.label_de, "times": conversion.times,
                "per": conversion.per, "decimals": conversion.decimals, "dtype": conversion.dtype},
        })
    return out


def table_about(result: Mapping[str, Any], fmt: str, about: Mapping[str, str] | None = None) -> dict[str, str]:
    """What the table file holds, for whoever opens it later: the breakdown, the data's as-of time, the
    filters, where the total is and what units the numbers have (with ``about`` from the caller first).

    In English (Parquet metadata is read by programs); :func:`about_for_people` says it in the file's language
    for the XLSX "about" sheet."""
    by = result.get("by")
    out: dict[str, str] = {"what": Text("carepulse metrics table: one row per {by}", by=by) if by else
                           Text("carepulse metrics table: the whole selection"), **(about or {})}
    out.setdefault("breakdown", str(by) if by else Text("none (the whole selection)"))
    out.setdefault("data as of (UTC)", str(result.get("as_of", "")))
    filters = result.get("filters")
    out.setdefault("filters", json.dumps(filters, ensure_ascii=False) if filters else "none")
    if not by:
        out["total"] = Text("the one row is the whole selection")
    elif fmt == "xlsx":
        out["total"] = Text("on the sheet 'total', not among the groups")
    else:
        out["total"] = ("not in this file (the rows are the groups only; a total row among them would be summed "
                        "twice): the XLSX export has it on its sheet 'total', the dashboard below the table")
    if fmt == "xlsx":
        out["columns"] = Text("the sheet 'columns' maps each header to its machine name, unit and definition")
        out["units"] = Text("as each header says: durations in minutes, shares in percent, euros to the cent")
    else:
        out["columns"] = "machine names; the metadata 'carepulse.columns' has each one's human headers and unit"
        out["units"] = ("the registry's: seconds, shares as 0..1, euros as computed; counts are whole numbers. "
                        "The headers for people and their conversions are in 'carepulse.columns'")
    return out


ABOUT_KEYS = (N_("what"), N_("rows"), N_("filters"), N_("breakdown"), N_("data as of (UTC)"), N_("total"),
              N_("columns"), N_("units"), N_("drilled group"), N_("warehouse snapshot"), N_("exported at (UTC)"),
              N_("carepulse version"), N_("times"), N_("definitions"))
"""The "about" entries a file for people names in its language (values: :class:`Text` made for it)."""


def about_for_people(about: Mapping[str, str], locale: Locale) -> dict[str, str]:
    """The "about" sheet of a file for people in its language: the keys above and the values made as
    :class:`~carepulse.core.text.Text`; data (filters, times, names) stays as it is."""
    return {(_(key, locale) if key in ABOUT_KEYS else key): say(value, lambda m: _(m, locale))
            for key, value in about.items()}


def table_bytes(result: Mapping[str, Any], fmt: str, locale: Locale, neutralise_formulas: bool = True,
                about: Mapping[str, str] | None = None) -> bytes:
    """A table of metrics (an engine headline result) as a file (docs/exports.md).

    - XLSX, for people: a sheet "data" of the groups with human headers and converted numbers, then
      "total", "columns" and "about".
    - CSV, for people: human headers and converted numbers, neutralised; the total left out.
      ``neutralise_formulas=False`` (``?csv=raw``) is CSV for machines: machine names, the registry's values.
    - Parquet, for machines: machine names and the registry's values; the human headers and ``about`` in
      its metadata (``carepulse.columns``, ``carepulse``); the total left out.
    """
    columns, rows, total = table_rows(result)
    info = table_about(result, fmt, about)
    if fmt == "xlsx":
        more = {"total": table_frame(columns, [total], locale, True), "columns": columns_sheet(columns, locale)}
        return to_xlsx(table_frame(columns, rows, locale, True), sheet="data", about=about_for_people(info, locale),
                       sheets=more)
    if fmt == "csv":
        frame = table_frame(columns, rows, locale, for_people=neutralise_formulas)
        return to_csv(frame, locale, neutralise_formulas)
    if fmt == "parquet":
        return to_parquet(table_frame(columns, rows, locale, False), info,
                          {"carepulse.columns": columns_metadata(columns)})
    raise ValueError(f"unknown export format {fmt!r} (csv, xlsx or parquet)")


def table_file(result: Mapping[str, Any], basename: str, fmt: str, locale: Locale, neutralise_formulas: bool = True,
               about: Mapping[str, str] | None = None) -> tuple[bytes, str, str]:
    """(content, file name, media type) of a table of metrics; see :func:`table_bytes`."""
    return table_bytes(result, fmt, locale, neutralise_formulas, about), f"{basename}.{fmt}", MEDIA_TYPES[fmt]


def table_download(result: Mapping[str, Any], basename: str, fmt: str, locale: Locale,
                   about: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``data`` of a ``dcc.Download`` for a table of metrics (Explore's "export this table")."""
    return _payload(*table_file(result, basename, fmt, locale, about=about))
