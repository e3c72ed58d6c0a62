"""Refuse a hostile or oversized workbook before a byte of it is decompressed or parsed.

An ``.xlsx`` file is a zip archive of XML parts. Two old attacks, and one honest mistake, turn that
into gigabytes of memory:

* a **zip bomb**: a few MB that inflate to many GB (deflate reaches about 1,000:1); openpyxl would
  inflate the sheet part while DuckDB stages its rows (one measured: 4.1 GB peak, then DuckDB out of
  memory). :func:`check_workbook` reads only the zip's central directory and refuses an archive that
  declares more than :data:`MAX_UNCOMPRESSED_BYTES` in all, a member larger than
  :data:`RATIO_MIN_BYTES` compressed more than :data:`MAX_RATIO`:1, more than :data:`MAX_MEMBERS`
  members, or shared strings over :data:`MAX_SHARED_STRINGS_BYTES`. The declared sizes can be
  trusted as limits: Python's ``zipfile`` never returns more than a member's declared size (and
  fails its CRC check if the stream holds more), so a directory that lies cannot inflate further.
* an **XML bomb** ("billion laughs": nested entities that expand to GBs) or an external entity.
  openpyxl parses through ``defusedxml`` when it is installed (a dependency of carepulse), which
  refuses entity declarations outright; :func:`check_parser` makes sure it really does, and
  :func:`xml_refusal` words the refusal. Excel never writes a DTD, so no real export is refused.

The caps, and why (measured on a 14-column CRM export, the canonical fields):

* ``MAX_UNCOMPRESSED_BYTES`` 1 GiB: Excel writes about 590 bytes of XML per row of that export and
  openpyxl about 725, so a full sheet (Excel's 1,048,576 rows) is 0.6-0.8 GB; XLSX loads at about
  4,000 rows a second, so the cap is also a few minutes of work. Larger exports belong in CSV.
* ``MAX_RATIO`` 200:1: real sheets compress 8:1 to 25:1 (a sheet of one repeated word: 24:1);
  deflate's limit is about 1,030:1, where bombs live. Members under ``RATIO_MIN_BYTES`` (1 MiB)
  are not held to it: a small part's ratio costs no memory whatever it is.
* ``MAX_SHARED_STRINGS_BYTES`` 128 MiB: openpyxl holds every shared string in memory at once (a
  Python string each, two to three times the XML's size), while sheet rows are streamed. A full
  sheet of that export holds about 80 MB of them.
* ``MAX_MEMBERS`` 10,000: a workbook has a dozen parts plus a few per sheet.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from xml.etree.ElementTree import ParseError

from carepulse.core.errors import DataError

MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 128 * 1024 * 1024
MAX_RATIO = 200
RATIO_MIN_BYTES = 1024 * 1024
MAX_MEMBERS = 10_000
SHARED_STRINGS = "xl/sharedstrings.xml"
SAVE_AS_CSV = "if the export is genuine, save it as CSV (UTF-8) and load that"


def _size(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"


def _declared_members(path: Path) -> int | None:
    """The member count the end-of-central-directory record declares, read before ``zipfile`` builds an
    object per member (millions of tiny entries would cost GBs that way); None if it cannot be found
    here (no record in the last 64 KiB, or ZIP64): ``zipfile`` then decides."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 65_557))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    total = struct.unpack("<H", tail[at + 10: at + 12])[0]
    return None if total == 0xFFFF else int(total)


def check_workbook(path: Path) -> None:
    """Raise DataError unless ``path`` is a zip archive whose directory declares a sane workbook.

    Reads the central directory only (``infolist``): nothing is decompressed here.
    """
    try:
        declared = _declared_members(path)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if declared is not None and declared > MAX_MEMBERS:
        raise DataError(f"{path}: refused: the archive has {declared:,} members (at most {MAX_MEMBERS:,}); "
                        "a workbook has a few dozen")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise DataError(f"{path}: not a valid .xlsx workbook (not a zip archive: {exc}); an .xlsx is a zip of "
                        "XML parts, so this is a damaged file or another format renamed .xlsx") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    with archive:
        members = archive.infolist()
    archive_bytes = path.stat().st_size
    if len(members) > MAX_MEMBERS:
        raise DataError(f"{path}: refused: the archive has {len(members):,} members (at most {MAX_MEMBERS:,}); "
                        "a workbook has a few dozen")
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise DataError(f"{path}: refused: the workbook would unpack to {_size(total)} (at most "
                        f"{_size(MAX_UNCOMPRESSED_BYTES)}, etl/sources/crm/xlsx_guard.py); a zip bomb, or an export "
                        f"too large for XLSX: {SAVE_AS_CSV}")
    for member in members:
        # a directory may also lie about the compressed size: no member reads more than the archive holds
        compressed = max(1, min(member.compress_size, archive_bytes))
        ratio = member.file_size / compressed
        if member.file_size >= RATIO_MIN_BYTES and ratio > MAX_RATIO:
            raise DataError(f"{path}: refused: the part {member.filename} would unpack {ratio:,.0f}:1 "
                            f"({_size(compressed)} to {_size(member.file_size)}; real sheets stay under "
                            f"{MAX_RATIO}:1), the mark of a zip bomb; {SAVE_AS_CSV}")
        if member.filename.lower() == SHARED_STRINGS and member.file_size > MAX_SHARED_STRINGS_BYTES:
            raise DataError(f"{path}: refused: its shared strings unpack to {_size(member.file_size)} (at most "
                            f"{_size(MAX_SHARED_STRINGS_BYTES)}; they are held in memory whole); {SAVE_AS_CSV}")


def check_parser() -> None:
    """Refuse to read XLSX unless openpyxl parses through defusedxml.

    openpyxl decides at import time, from whether ``defusedxml`` imports and from the environment
    variable ``OPENPYXL_DEFUSEDXML``; without it a crafted workbook's entities would be expanded.
    """
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:
        raise DataError("XLSX files are read only through defusedxml, which protects against XML bombs: "
                        "install it (pip install defusedxml) and do not set OPENPYXL_DEFUSEDXML=False")


def xml_refusal(path: Path, exc: BaseException) -> DataError | None:
    """The DataError for an XML bomb or an entity-bearing part, or None if ``exc`` is something else.

    defusedxml raises DTDForbidden, EntitiesForbidden or ExternalReferenceForbidden; the standard
    library's expat (where defusedxml is bypassed) raises a ParseError once entities amplify too much.
    """
    from defusedxml import DefusedXmlException

    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:  # openpyxl re-raises a part's error as a ValueError
        seen.append(current)
        current = current.__cause__ or current.__context__
    for cause in seen:
        if isinstance(cause, DefusedXmlException):
            return DataError(f"{path}: refused: an XML part declares entities or a DTD ({type(cause).__name__}), "
                             "which Excel never writes: an XML bomb or an external-entity attack, not an export")
    for cause in seen:
        if isinstance(cause, ParseError):
            return DataError(f"{path}: not a valid .xlsx workbook (an XML part cannot be parsed: {cause})")
    return None
