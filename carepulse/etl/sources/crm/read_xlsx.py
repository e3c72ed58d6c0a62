"""Reading a CRM XLSX export (openpyxl, read-only, behind :mod:`.xlsx_guard`) into ``crm_raw``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import duckdb

from carepulse.core.errors import DataError
from carepulse.etl.sources.crm.common import CHUNK_ROWS, CrmFile, insert_chunk
from carepulse.etl.sources.crm.mapping import WHITESPACE, Mapping


def _open_workbook(path: Path) -> Any:
    """The workbook, read-only; its zip directory is checked first (:mod:`.xlsx_guard`), so a zip bomb is
    refused before anything is inflated, and its XML is parsed through defusedxml (no entity bombs)."""
    import openpyxl  # imported here: only XLSX loads pay for it

    from carepulse.etl.sources.crm import xlsx_guard

    xlsx_guard.check_parser()
    xlsx_guard.check_workbook(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException ... on junk
        raise xlsx_guard.xml_refusal(path, exc) or DataError(
            f"{path}: not a valid .xlsx workbook ({type(exc).__name__}: {exc})") from exc


def _worksheet(path: Path, workbook: Any, sheet: str | None) -> Any:
    if sheet is None:
        return workbook.worksheets[0]
    if sheet not in workbook.sheetnames:
        raise DataError(f"{path}: no sheet {sheet!r} (source.sheet); the workbook has: "
                        + ", ".join(repr(s) for s in workbook.sheetnames))
    return workbook[sheet]


def _sheet_rows(worksheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(sheet row number, cell values); trusting no stored dimension, which some writers get wrong."""
    worksheet.reset_dimensions()
    yield from enumerate(worksheet.iter_rows(min_row=1, values_only=True), start=1)


def xlsx_header(path: Path, sheet: str | None) -> tuple[str, tuple[str, ...], int]:
    from carepulse.etl.sources.crm import xlsx_guard

    workbook = _open_workbook(path)
    try:
        worksheet = _worksheet(path, workbook, sheet)
        for number, row in _sheet_rows(worksheet):
            if any(v is not None and str(v).strip(WHITESPACE) for v in row):
                headers = tuple("" if v is None else str(v).strip(WHITESPACE) for v in row)
                return str(worksheet.title), headers, number
    except (DataError, MemoryError):
        raise
    except Exception as exc:  # the sheet part is parsed only here: an XML bomb or a broken part surfaces now
        raise xlsx_guard.xml_refusal(path, exc) or DataError(
            f"{path}: the sheet cannot be read ({type(exc).__name__}: {exc})") from exc
    finally:
        workbook.close()
    raise DataError(f"{path}: the sheet {sheet or 'at position 1'!r} is empty (no header row)")


def _cell_text(value: Any, decimal: str) -> str | None:
    """A cell as the text a CSV export would hold, so one SQL validation serves every format.

    Floats keep ``repr`` (``4.0``, ``1.2345678901234568e+18``) so a tweet id that Excel turned
    into a float is recognised and rejected instead of silently rounded; dates become ISO 8601.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value).replace(".", decimal)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def stage_xlsx(con: duckdb.DuckDBPyConnection, source: CrmFile, mapping: Mapping) -> None:
    """Stage the sheet's rows below the header; ``line`` is the sheet's row number.

    Only ``handled_minutes`` numbers are written with the mapping's decimal separator: that is the
    only field parsed with it, ids and scores accept ``4.0`` either way.
    """
    from carepulse.etl.sources.crm import xlsx_guard

    picks = list(source.fields.items())
    columns: list[list[str | None]] = [[] for _ in picks]
    lines: list[int] = []
    record_nos: list[int] = []
    record_no = 0
    workbook = _open_workbook(source.path)
    try:
        worksheet = _worksheet(source.path, workbook, source.sheet)
        for number, row in _sheet_rows(worksheet):
            if number <= source.header_line or not any(v is not None and v != "" for v in row):
                continue
            record_no += 1
            lines.append(number)
            record_nos.append(record_no)
            for column, (name, index) in zip(columns, picks, strict=True):
                value = row[index] if index < len(row) else None
                column.append(_cell_text(value, mapping.decimal if name == "handled_minutes" else "."))
            if len(lines) >= CHUNK_ROWS:
                insert_chunk(con, source, columns, lines, record_nos)
                columns = [[] for _ in picks]
                lines, record_nos = [], []
    except (DataError, MemoryError, duckdb.Error):  # DuckDB's (disk full, out of memory) are the writer's to report
        raise
    except Exception as exc:  # a corrupt sheet part surfaces only while iterating
        raise xlsx_guard.xml_refusal(source.path, exc) or DataError(
            f"{source.path}: the sheet cannot be read ({type(exc).__name__}: {exc})") from exc
    finally:
        workbook.close()
    if lines:
        insert_chunk(con, source, columns, lines, record_nos)
