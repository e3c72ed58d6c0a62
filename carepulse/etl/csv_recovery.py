"""Record-level recovery for CSV input: one bad record must never sink a file.

The fast readers stay as they are for clean files (DuckDB's ``read_csv`` for TWCS, Python's
``csv`` for CRM exports); this module holds what they need when a file is not clean, and the
cheap checks that tell the two apart:

* **pre-flight**: a file that cannot be CSV at all (UTF-16, binary, mostly not UTF-8, a header
  wider than :data:`MAX_COLUMNS`) is refused at once with one message. A single bad byte or NUL
  is let through: it costs its record, not the file.
* **stray line breaks**: a CR or LF that is not part of the file's own line end (pandas writes
  a CR inside a tweet unquoted). DuckDB's strict parser aborts the whole statement on one, and
  Python's ``csv`` with universal newlines splits the record in two. One ``memchr`` over the file
  finds out whether there is any (under 0.1 s for 570 MB with LF line ends); only then does the
  TWCS reader parse a sanitized copy (:func:`write_sanitized_copy`). The CRM reader splits lines
  at the file's line end only (:func:`open_text`), so ``csv`` itself refuses just the records with
  an unquoted stray break, and counts lines without the strays (:func:`stray_lines`).
* **reading a broken record again** (:func:`recover`): stray breaks as data first (the record keeps
  its CR); when that does not give the header's number of fields, as line ends; when neither
  does, the record is quarantined. For two or more fields both readings can never fit at once,
  so a recovered record is never a guess. A quote never closed swallows the lines after it; they
  are read on their own.
* **physical line numbers** from byte positions: DuckDB reports its row count as ``line``.

Lines are physical lines as an editor shows them: an LF, a CRLF and a lone CR each end one.
"""

from __future__ import annotations

import csv
import io
import mmap
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from carepulse.core.errors import DataError

#: Widest header accepted: a 100,000-column header would cost DuckDB minutes before failing.
MAX_COLUMNS = 1000
#: Longest record (and field) either reader accepts, as DuckDB's ``max_line_size``.
MAX_RECORD_BYTES = 16 * 1024 * 1024
#: Longest raw text kept for a quarantined record (a runaway quoted field can swallow a whole file).
RAW_LIMIT = 4000
#: How much of the file's start the pre-flight checks and the line-end vote look at.
HEAD_BYTES = 1 << 20
_TEXT_PROBE = 1 << 16
_CHUNK = 1 << 26
_SCAN_CHUNK = 1 << 24  # numpy scans: four boolean arrays of this size at a time
#: Bytes that stand in for stray CR/LF in a sanitized copy (1:1, so byte positions stay valid);
#: the first two that do not occur in the file are used.
_PLACEHOLDER_CANDIDATES = bytes([0x1E, 0x1F, 0x1C, 0x1D, *range(0x01, 0x09), *range(0x0E, 0x1C), 0x7F])
_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"\x1f\x8b", b"BZh", b"PK\x03\x04", b"PAR1", b"\xd0\xcf\x11\xe0",
                 b"SQLite format 3", b"\x7fELF", b"GIF8", b"\xff\xd8\xff")
_CONTROL = bytes([*range(0x00, 0x09), *range(0x0E, 0x20)])
_BARE_CR = re.compile(rb"\r(?!\n)")
_BARE_LF = re.compile(rb"(?<!\r)\n")
_BREAK = re.compile(r"(\r\n|\r|\n)")


# --------------------------------------------------------------------------------------------
# pre-flight


def check_csv_text(path: Path, what: str) -> None:
    """Refuse files that cannot be UTF-8 CSV at all, from the first 64 KB, with one clear message.

    Unlike :func:`etl.runs.check_text` a stray NUL or a single byte that is not UTF-8 passes: the
    readers quarantine its record. A file is refused as not UTF-8 only when more than one line in
    ten of its start is not UTF-8 (a Latin-1 export, not a stray byte).
    """
    with path.open("rb") as fh:
        head = fh.read(_TEXT_PROBE)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head):
        kind = "UTF-32" if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) else "UTF-16"
        raise DataError(f"{path}: is {kind} text; {what} must be UTF-8 (re-save it as UTF-8)")
    control = len(head) - len(head.translate(None, _CONTROL))
    if head.startswith(_BINARY_MAGIC) or control * 20 > len(head):
        raise DataError(f"{path}: looks like a binary file (control bytes), not {what}")
    lines = head.splitlines()
    if len(head) == _TEXT_PROBE and len(lines) > 1:
        lines = lines[:-1]  # cut mid-line, maybe mid-character
    bad = 0
    for line in lines:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
    if bad * 10 > len(lines):
        raise DataError(f"{path}: not UTF-8 text ({bad} of the first {len(lines)} lines are not UTF-8; "
                        f"{what} must be UTF-8; re-save it as UTF-8)")


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: ASCII text with a NUL in every other byte."""
    sample = head[:200]
    return len(sample) >= 8 and (sample[1::2].count(0) * 10 >= len(sample) * 4
                                 or sample[0::2].count(0) * 10 >= len(sample) * 4)


def check_header_width(path: Path, delimiter: str) -> None:
    """Refuse a header wider than :data:`MAX_COLUMNS` (or longer than 1 MiB) before any parser sees it."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip("\r\n")
    end = min((i for i in (text.find("\n"), text.find("\r")) if i != -1), default=-1)
    line = text if end == -1 else text[:end]
    columns = count_fields(line, delimiter)
    if columns > MAX_COLUMNS:
        more = "at least " if end == -1 else ""
        raise DataError(f"{path}: the header has {more}{columns:,} columns; at most {MAX_COLUMNS:,} are supported")
    if end == -1 and len(head) == HEAD_BYTES:
        raise DataError(f"{path}: the header line is longer than {HEAD_BYTES >> 20} MiB; not a CSV header")


def count_fields(line: str, delimiter: str) -> int:
    """Fields of one line: delimiters outside quotes, plus one."""
    if '"' not in line:
        return line.count(delimiter) + 1
    return sum(part.count(delimiter) for part in line.split('"')[::2]) + 1


def detect_line_end(path: Path) -> str:
    """The file's line end: the header's, unless under a tenth of the line breaks in the first MiB use it.

    The header's, because spreadsheet exports end rows with CRLF but put a bare LF inside quoted
    multi-line cells, which may outnumber the rows; the majority when the header alone differs
    (typed by hand above rows written by a tool).
    """
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES).lstrip(b"\r\n")
    crlf = head.count(b"\r\n")
    votes = {"\n": head.count(b"\n") - crlf, "\r\n": crlf, "\r": head.count(b"\r") - crlf}
    match = re.search(rb"\r\n|\r|\n", head)
    header = match.group().decode() if match else "\n"
    if votes[header] * 10 >= sum(votes.values()):
        return header
    return max(votes, key=lambda k: (votes[k], k == "\n"))


# --------------------------------------------------------------------------------------------
# stray line breaks


def has_stray_breaks(path: Path, line_end: str) -> bool:
    """Whether any CR or LF in the file is not part of its line end (quoted or not).

    A mapped file's pages count as the process's resident memory: a scan of a 1.9 GB file through ``mmap``
    showed the load a 1.8 GB peak before any work began. The common case (one-byte line ends) is searched
    through the mapping a chunk at a time, each chunk's pages given back after (``MADV_DONTNEED``: 0.08 s for
    570 MB, half of copying it out in reads); CRLF files are read in chunks.
    """
    stray = {"\n": b"\r", "\r": b"\n"}.get(line_end)
    if stray is not None:
        with path.open("rb") as fh:
            if fh.seek(0, 2) == 0:
                return False
            step = max(mmap.PAGESIZE, _SCAN_CHUNK - _SCAN_CHUNK % mmap.PAGESIZE)  # madvise takes whole pages
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                for start in range(0, len(mm), step):
                    end = min(start + step, len(mm))
                    if mm.find(stray, start, end) != -1:
                        return True
                    mm.madvise(mmap.MADV_DONTNEED, start, end - start)
        return False
    crs = lfs = 0
    previous = -1  # the byte before the chunk (a CRLF can straddle two chunks); none at the start
    with path.open("rb") as fh:
        while chunk := fh.read(_SCAN_CHUNK):
            body = np.frombuffer(chunk, dtype=np.uint8)
            lf = np.flatnonzero(body == 10)
            lfs += len(lf)
            crs += int(np.count_nonzero(body == 13))
            if len(lf) and lf[0] == 0 and previous != 13:
                return True
            if bool(np.any(body[lf[lf > 0] - 1] != 13)):
                return True
            previous = int(body[-1])
    return crs != lfs


def placeholders(path: Path) -> tuple[bytes, bytes]:
    """Two control bytes that do not occur in the file, to stand in for stray CR and LF."""
    found: list[bytes] = []
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for byte in _PLACEHOLDER_CANDIDATES:
            if mm.find(bytes([byte])) == -1:
                found.append(bytes([byte]))
                if len(found) == 2:
                    return found[0], found[1]
    raise DataError(f"{path}: holds stray line breaks and every control byte; cannot read it safely")


def write_sanitized_copy(source: Path, target: Path, line_end: str, ph_cr: bytes, ph_lf: bytes) -> None:
    """Copy ``source`` with every stray CR/LF replaced by its placeholder byte (same length).

    The copy has only the file's own line ends, so DuckDB's strict parser reads a record with a
    stray break as one record; :func:`restore_sql` puts the CR/LF back into the values. The copy
    is the kernel's (0.2 s for 570 MB), the placeholders are written in place.
    """
    shutil.copyfile(source, target)
    data = np.memmap(source, dtype=np.uint8, mode="r")
    out = np.memmap(target, dtype=np.uint8, mode="r+")
    for start in range(0, len(data), _SCAN_CHUNK):
        stop = min(start + _SCAN_CHUNK, len(data))
        body = data[start:stop]
        if line_end == "\n":
            out[np.flatnonzero(body == 13) + start] = ph_cr[0]
        elif line_end == "\r":
            out[np.flatnonzero(body == 10) + start] = ph_lf[0]
        else:
            following = data[start + 1:stop + 1]
            following = following if len(following) == len(body) else np.append(following, 0)
            preceding = data[start - 1:stop - 1] if start else np.append(0, data[:stop - 1])
            out[np.flatnonzero((body == 13) & (following != 10)) + start] = ph_cr[0]
            out[np.flatnonzero((body == 10) & (preceding != 13)) + start] = ph_lf[0]
    out.flush()
    del out


def restore_sql(column: str, ph_cr: bytes, ph_lf: bytes) -> str:
    """SQL that puts the stray CR/LF back in place of their placeholders (``contains`` first: half the cost)."""
    cr, lf = f"chr({ph_cr[0]})", f"chr({ph_lf[0]})"
    return (f"CASE WHEN contains({column}, {cr}) OR contains({column}, {lf}) "
            f"THEN replace(replace({column}, {cr}, chr(13)), {lf}, chr(10)) ELSE {column} END")


def restore(text: str, ph_cr: str, ph_lf: str) -> str:
    return text.replace(ph_cr, "\r").replace(ph_lf, "\n")


def read_as_line_ends(text: str, delimiter: str, width: int) -> list[tuple[int, list[str]]] | None:
    """Read ``text`` (one record of the first reading) with every line break ending a record.

    Returns (line offset, fields) per record when every non-blank record has ``width`` fields,
    else None: the record cannot be recovered this way either.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                        strict=True)
    rows: list[tuple[int, list[str]]] = []
    before = 0
    try:
        for row in reader:
            if row:
                if len(row) != width:
                    return None
                rows.append((before, row))
            before = reader.line_num
    except csv.Error:
        return None
    return rows or None


def reread(text: str, delimiter: str, width: int) -> tuple[list[tuple[int, list[str]]], bool]:
    """Records to recover from the text of one rejected record, read two other ways.

    1. Every line break outside quotes ends a record: right when the breaks were stray line ends.
    2. When the first line opens a quote it does not close, the lines after it on their own:
       right when that quote is never closed and swallowed them; the first line stays quarantined.

    A way counts only when every record it gives has ``width`` fields. Returns the records (line
    offset within ``text``, fields) and whether the first line stays quarantined; no records
    means the whole text stays one quarantined record.
    """
    records = read_as_line_ends(text, delimiter, width)
    if records:
        return records, False
    parts = _BREAK.split(text, maxsplit=1)
    if len(parts) == 3 and parts[2] and parts[0].count('"') % 2:
        rest = read_as_line_ends(parts[2], delimiter, width)
        if rest:
            return [(offset + 1, fields) for offset, fields in rest], True
    return [], False


def restore_columns_sql(names: list[str], line_end: str, ph_cr: bytes, ph_lf: bytes) -> str:
    """``SELECT`` list putting stray breaks back into every column of a sanitized copy.

    A CR right before the LF in an LF file (or an LF right after the CR in a CR file) is part of a
    CRLF line end, not data, so it is dropped from the last (first) column instead.
    """
    exprs = []
    for i, name in enumerate(names):
        column = '"' + name.replace('"', '""') + '"'
        value = column
        if line_end == "\n" and i == len(names) - 1:
            value = f"rtrim({value}, chr({ph_cr[0]}))"
        if line_end == "\r" and i == 0:
            value = f"ltrim({value}, chr({ph_lf[0]}))"
        exprs.append(f"{restore_sql(value, ph_cr, ph_lf)} AS {column}")
    return ", ".join(exprs)


@dataclass(frozen=True)
class Broken:
    """A record that stays quarantined: its physical lines and why."""

    first: int
    last: int
    reason: str


#: What the tolerant readers hand on, in file order: a record (first line, fields) or a broken one.
Event = tuple[int, list[str]] | Broken

SWALLOWED = ("a quote opened on this line is never closed; the {n} records on the lines it swallowed "
             "were read on their own")
STRAY_HINT = ("it holds a line break that is not this file's line end; read as data or as a line end "
              "it does not give {width} fields")


def recover(text: str, first: int, last: int, reason: str, delimiter: str, width: int) -> list[Event]:
    """The events for one broken record of lines ``first..last`` and text ``text`` (see :func:`reread`)."""
    records, first_kept = reread(text, delimiter, width)
    if not records:
        return [Broken(first, last, reason)]
    events: list[Event] = [(first + offset, fields) for offset, fields in records]
    if first_kept:
        events.insert(0, Broken(first, first, f"{reason} ({SWALLOWED.format(n=len(records))})"))
    return events


def csv_error_reason(exc: csv.Error, delimiter: str) -> str:
    """Python's ``csv`` errors in words a data owner can act on."""
    message = str(exc)
    if "unexpected end of data" in message:
        return "the file ends inside a quoted field (truncated file or a missing closing quote)"
    if "expected after" in message:
        return f"malformed quoting: a closing quote must be followed by the delimiter {delimiter!r}"
    if "field larger than field limit" in message:
        return f"a field is longer than {MAX_RECORD_BYTES >> 20} MiB, the most a record may hold"
    return f"unreadable CSV record: {message}"


def open_text(path: Path, newline: str = "") -> TextIO:
    """The file as text for Python's ``csv``: BOM removed, line ends kept, a bad byte kept as a surrogate.

    ``surrogateescape`` never raises, so a byte that is not UTF-8 reaches its record (which is
    then quarantined) instead of stopping the file at the decoder's read-ahead position. With
    ``newline`` set to the file's line end, only that ends a line: ``csv`` then keeps a quoted
    stray break as data and raises on an unquoted one, instead of ending the record there.
    """
    return path.open(newline=newline, encoding="utf-8-sig", errors="surrogateescape")


def stray_lines(path: Path, line_end: str) -> np.ndarray:
    """Sorted numbers of the lines (as ended by ``line_end`` only) that hold each stray break.

    A reader that splits at ``line_end`` only counts those lines; adding the stray breaks of
    the lines before gives the physical line (:func:`physical_line`).
    """
    data = np.memmap(path, dtype=np.uint8, mode="r")
    size = len(data)
    found: list[np.ndarray] = []
    ends_before = 0
    for start in range(0, size, _SCAN_CHUNK):
        body = data[start:start + _SCAN_CHUNK]
        cr = np.flatnonzero(body == 13) + start
        lf = np.flatnonzero(body == 10) + start
        after_cr = data[np.minimum(cr + 1, size - 1)] == 10
        after_cr[cr + 1 >= size] = False
        before_lf = data[np.maximum(lf - 1, 0)] == 13
        before_lf[lf == 0] = False
        if line_end == "\n":
            ends, strays = lf, cr[~after_cr]
        elif line_end == "\r":
            ends, strays = cr, lf[~before_lf]
        else:
            ends, strays = lf[before_lf], np.sort(np.concatenate([cr[~after_cr], lf[~before_lf]]))
        found.append(ends_before + 1 + np.searchsorted(ends, strays, side="left"))
        ends_before += len(ends)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def physical_line(line: int, strays: np.ndarray | None) -> int:
    """The physical line of a line counted by the file's line end only (see :func:`stray_lines`)."""
    return line if strays is None else line + int(np.searchsorted(strays, line, side="left"))


_PH_CR, _PH_LF = "\ufdd0", "\ufdd1"  # Unicode noncharacters: never in interchanged text


def read_with_strays(text: str, delimiter: str, width: int, line_end: str) -> list[str] | None:
    """The fields of one record whose stray breaks ``csv`` refused, reading the breaks as data.

    None unless that gives one record of ``width`` fields (then :func:`recover` tries the others).
    """
    if _PH_CR in text or _PH_LF in text:
        return None
    parts = text.split(line_end)
    body = [p.replace("\r", _PH_CR).replace("\n", _PH_LF) for p in parts]
    reader = csv.reader(io.StringIO(line_end.join(body), newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, strict=True)
    try:
        rows = [row for row in reader if row]
    except csv.Error:
        return None
    if len(rows) != 1 or len(rows[0]) != width:
        return None
    return [restore(field, _PH_CR, _PH_LF) for field in rows[0]]


class LineCursor:
    """Lines of a file, read forward on demand: the fast reader asks only for broken records."""

    def __init__(self, path: Path, newline: str = "") -> None:
        self._path = path
        self._newline = newline
        self._fh: TextIO | None = None
        self._line = 0

    def text(self, first: int, last: int) -> str | None:
        """Lines ``first..last`` as one text, or None when longer than :data:`MAX_RECORD_BYTES`."""
        if self._fh is None or first <= self._line:
            self.close()
            self._fh = open_text(self._path, self._newline)
            self._line = 0
        parts: list[str] = []
        size = 0
        for piece in self._fh:
            self._line += 1
            if self._line >= first:
                parts.append(piece)
                size += len(piece)
            if self._line >= last:
                break
        return "".join(parts) if size <= MAX_RECORD_BYTES else None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


# --------------------------------------------------------------------------------------------
# positions and lines


def row_starts(path: Path, positions: np.ndarray) -> np.ndarray:
    """The true start of each DuckDB reject row from its ``line_byte_position``.

    DuckDB 1.x/2.x reports one byte past the start after an LF or lone CR, and the start itself
    after a CRLF; taking the first byte after the nearest line break at or before the position
    minus one covers both (and a correct position too).
    """
    data = np.memmap(path, dtype=np.uint8, mode="r")
    pos = np.clip(np.asarray(positions, dtype=np.int64), 0, len(data))
    before = data[np.maximum(pos - 1, 0)]
    two_before = data[np.maximum(pos - 2, 0)]
    past_start = (pos >= 2) & (before != 10) & (before != 13) & ((two_before == 10) | (two_before == 13))
    return np.asarray(pos - past_start, dtype=np.int64)


def physical_lines(path: Path, positions: np.ndarray) -> np.ndarray:
    """1-based physical line of each byte position (LF, CRLF and a lone CR each end a line).

    Only the stretches that hold a position get break positions; the others are just counted.
    """
    positions = np.asarray(positions, dtype=np.int64)
    result = np.ones(len(positions), dtype=np.int64)
    if not len(positions):
        return result
    data = np.memmap(path, dtype=np.uint8, mode="r")
    order = np.argsort(positions, kind="stable")
    ordered = positions[order]
    limit = min(int(ordered[-1]), len(data))
    breaks_before, done = 0, 0
    for start in range(0, limit, _SCAN_CHUNK):
        stop = min(start + _SCAN_CHUNK, limit)
        body = data[start:stop]
        upto = int(np.searchsorted(ordered, stop, side="left")) if stop < limit else len(ordered)
        bare_cr = body == 13
        if bare_cr.any():
            following = data[start + 1:stop + 1]
            bare_cr &= (following if len(following) == len(body) else np.append(following, 0)) != 10
        if upto == done:
            breaks_before += int(np.count_nonzero(body == 10)) + int(np.count_nonzero(bare_cr))
            continue
        breaks = np.flatnonzero((body == 10) | bare_cr) + start
        result[order[done:upto]] += breaks_before + np.searchsorted(breaks, ordered[done:upto], side="left")
        breaks_before += len(breaks)
        done = upto
    result[order[done:]] += breaks_before
    return result


def first_invalid_utf8(data: bytes) -> tuple[int, int] | None:
    """(offset, byte value) of the first byte in ``data`` that is not UTF-8, ignoring a cut-off tail."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return None
        return exc.start, data[exc.start]
    return None


def invalid_utf8_reason(line: int, byte: int | None, where: str = "") -> str:
    """The one wording both readers use for a record holding a byte that is not UTF-8."""
    what = f"byte 0x{byte:02X}" if byte is not None else "a byte"
    return f"invalid UTF-8 at line {line}: {what}{where} is not UTF-8 (the file is not all UTF-8; re-save it as UTF-8)"


def first_lines(text: str, count: int) -> str:
    """The first ``count`` physical lines of ``text``, without the last line end."""
    parts = _BREAK.split(text, maxsplit=count)
    kept = "".join(parts[: 2 * count - 1])
    return kept


def count_breaks(text: str) -> int:
    """Physical line breaks in ``text`` (a CRLF is one)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")
