"""The hostile-input corpus: every kind of broken file a real installation meets, with its accounting.

Each case builds one input file and says what must happen when it is loaded through the CLI:
either the file's records are accounted for (``read N = loaded + duplicate + quarantined``, the
quarantined ones at the lines named, each with a reason), or the file cannot be read at all and the
command ends in one ``error:`` line, exit 2, with the published warehouse unchanged. The other test
files go deeper into each reader; this one is the list a reviewer reads to see what is covered.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from carepulse.cli import main
from carepulse.etl.sources.crm.mapping import FIELD_NAMES
from carepulse.warehouse import Warehouse
from tests.test_failures import BILLION_LAUGHS, crm_workbook, write_parts, zip_bomb
from tests.twcs_helpers import HEADER, at, row, write_twcs


@dataclass(frozen=True)
class Loaded:
    """The accounting a file must end in, and the lines (with a word of their reason) it quarantines."""

    read: int
    loaded: int
    duplicate: int = 0
    quarantined: int = 0
    lines: dict[int, str] = field(default_factory=dict)
    warning: str | None = None


@dataclass(frozen=True)
class Refused:
    """The file cannot be read at all: one ``error:`` line holding ``words``, exit 2, nothing published."""

    words: str


Expected = Loaded | Refused


@dataclass(frozen=True)
class Case:
    kind: str
    source: str  # twcs, crm, jsonl
    build: Callable[[Path], Path]
    expected: Expected


def twcs_rows(n: int = 10) -> list[list[str]]:
    """``n`` tweets: customers asking, the brand answering every second one."""
    out = []
    for i in range(1, n + 1):
        if i % 2:
            out.append(row(1000 + i, f"c{i}", False, at(f"10:{i:02d}"), f"@acme question {i}"))
        else:
            out.append(row(1000 + i, "acme", True, at(f"10:{i:02d}"), f"@c{i - 1} answer {i}", parent=999 + i))
    return out


def twcs_bytes(path: Path, rows: list[list[str]] | None = None, newline: str = "\n") -> bytes:
    return write_twcs(path, twcs_rows() if rows is None else rows, newline=newline).read_bytes()


def patched(path: Path, old: bytes, new: bytes, rows: list[list[str]] | None = None, newline: str = "\n") -> Path:
    """A clean TWCS file with one byte sequence replaced (the defect), written back."""
    data = twcs_bytes(path, rows, newline)
    assert data.count(old) == 1, old
    path.write_bytes(data.replace(old, new))
    return path


def written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def crm_file(path: Path, records: list[list[str]], raw: Callable[[bytes], bytes] = lambda b: b) -> Path:
    lines = [",".join(FIELD_NAMES)] + [",".join(r) for r in records]
    path.write_bytes(raw(("\n".join(lines) + "\n").encode("utf-8")))
    return path


def case_row(case_id: str, channel: str = "phone", *, category: str = "Rechnung", csat: str = "") -> list[str]:
    values = {"case_id": case_id, "channel": channel, "opened_at": "2026-10-01 10:00",
              "closed_at": "2026-10-01 10:30", "outcome": "resolved", "customer_ref": "K1", "team": "Hotline",
              "category": category, "handled_minutes": "7", "csat": csat}
    return [values.get(name, "") for name in FIELD_NAMES]


def crm_cases(n: int = 5) -> list[list[str]]:
    return [case_row(f"C-{i}") for i in range(1, n + 1)]


def jsonl(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def tweet(n: int, author: str = "555") -> dict[str, str]:
    return {"id": str(7000 + n), "text": f"@acme tweet {n}", "author_id": author,
            "created_at": f"2026-11-01T10:{n:02d}:00.000Z", "conversation_id": str(7000 + n)}


USERS = {"users": [{"id": "555", "username": "kunde"}]}
PAGE = json.dumps({"data": [tweet(1), tweet(2)], "includes": USERS, "meta": {}})


CASES: list[Case] = [
    # ---- TWCS -------------------------------------------------------------------------------------
    Case("twcs: a bare CR inside an unquoted text (a pandas re-save)", "twcs",
         lambda p: patched(p, b"question 5", b"question\r5"), Loaded(10, 10)),
    Case("twcs: a latin-1 byte late in a UTF-8 file", "twcs",
         lambda p: patched(p, b"question 9", b"question \xe4 9"), Loaded(10, 9, quarantined=1, lines={10: "UTF-8"})),
    Case("twcs: a header of 100,000 columns", "twcs",
         lambda p: written(p, ",".join([*HEADER, *(f"x{i}" for i in range(100_000))]).encode() + b"\n"),
         Refused("at most 1,000 are supported")),
    Case("twcs: a quote never closed in the last record", "twcs",
         lambda p: patched(p, b"@acme question 9", b'"@acme question 9'), Loaded(10, 9, quarantined=1, lines={10: ""})),
    Case("twcs: a NUL byte inside a text", "twcs", lambda p: patched(p, b"question 3", b"question\x003"),
         Loaded(10, 10)),
    Case("twcs: a record with too many fields", "twcs",
         lambda p: write_twcs(p, [*twcs_rows(4), [*twcs_rows(5)[4], "surplus"]]),
         Loaded(5, 4, quarantined=1, lines={6: "too many columns"})),
    Case("twcs: a record with too few fields", "twcs",
         lambda p: write_twcs(p, [*twcs_rows(4), ["1005", "c5", "True"]]), Loaded(5, 4, quarantined=1, lines={6: ""})),
    Case("twcs: the header only", "twcs", lambda p: write_twcs(p, []), Loaded(0, 0)),
    Case("twcs: an empty file", "twcs", lambda p: written(p, b""), Refused("")),
    Case("twcs: UTF-16 text", "twcs",
         lambda p: written(p, twcs_bytes(p).decode().encode("utf-16")), Refused("UTF-16")),
    Case("twcs: a byte-order mark and ';' separators", "twcs",
         lambda p: written(p, b"\xef\xbb\xbf" + write_twcs(p, twcs_rows(), delimiter=";").read_bytes()),
         Loaded(10, 10)),
    Case("twcs: a CRLF file with one bare LF in a text", "twcs",
         lambda p: patched(p, b"question 7", b"question\n7", newline="\r\n"), Loaded(10, 10)),
    Case("twcs: no newline after the last record", "twcs",
         lambda p: written(p, twcs_bytes(p).rstrip(b"\n")), Loaded(10, 10)),
    Case("twcs: the same tweet twice in one file", "twcs",
         lambda p: write_twcs(p, [*twcs_rows(), twcs_rows()[0]]), Loaded(11, 10, duplicate=1)),
    Case("twcs: a tweet id that is no number", "twcs", lambda p: patched(p, b"1003,", b"abc,"),
         Loaded(10, 9, quarantined=1, lines={4: "invalid tweet_id"})),
    Case("twcs: a broken row before a record that fails validation (lines stay true)", "twcs",
         lambda p: write_twcs(p, [*twcs_rows(1), [*twcs_rows(2)[1], "surplus"], *twcs_rows(4)[2:],
                                  ["1005", "c5", "True", "yesterday", "hi", "", ""], twcs_rows(6)[5]]),
         Loaded(6, 4, quarantined=2, lines={3: "too many columns", 6: "unparseable created_at"})),
    Case("twcs: a time that is no time", "twcs",
         lambda p: write_twcs(p, [*twcs_rows(4), ["1005", "c5", "True", "yesterday", "hi", "", ""]]),
         Loaded(5, 4, quarantined=1, lines={6: "unparseable created_at"})),
    Case("twcs: an id beyond 64 bits", "twcs", lambda p: patched(p, b"1003,", b"99999999999999999999,"),
         Loaded(10, 9, quarantined=1, lines={4: "invalid tweet_id"})),
    Case("twcs: a picture named .csv", "twcs",
         lambda p: written(p, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40), Refused("")),
    Case("twcs: a required column missing", "twcs",
         lambda p: written(p, b"tweet_id,author_id,text\n1,c1,hi\n"), Refused("missing column")),
    # ---- CRM --------------------------------------------------------------------------------------
    Case("crm: a bare CR inside a field", "crm",
         lambda p: crm_file(p, [*crm_cases(2), case_row("C-3", category="Rech\rnung"), case_row("C-4")]),
         Loaded(4, 4)),
    Case("crm: a latin-1 byte late in a UTF-8 file", "crm",
         lambda p: crm_file(p, [*crm_cases(1998), case_row("C-1999", category="MARKER"), case_row("C-2000")],
                            lambda b: b.replace(b"MARKER", b"R\xe4chnung")),
         Loaded(2000, 1999, quarantined=1, lines={2000: "UTF-8"})),
    Case("crm: an unknown channel", "crm", lambda p: crm_file(p, [*crm_cases(2), case_row("C-9", "fax")]),
         Loaded(3, 2, quarantined=1, lines={4: "unknown channel 'fax'"})),
    Case("crm: a CSAT score out of range", "crm", lambda p: crm_file(p, [*crm_cases(2), case_row("C-9", csat="9")]),
         Loaded(3, 2, quarantined=1, lines={4: "csat '9'"})),
    Case("crm: a header of 100,000 columns", "crm",
         lambda p: written(p, ",".join([*FIELD_NAMES, *(f"x{i}" for i in range(100_000))]).encode() + b"\n")
        , Refused("at most 1,000 are supported")),
    # ---- XLSX -------------------------------------------------------------------------------------
    Case("xlsx: a zip bomb claiming 2 GiB", "crm", lambda p: zip_bomb(p.with_suffix(".xlsx")),
         Refused("would unpack to 2.0 GB")),
    Case("xlsx: a billion-laughs sheet", "crm",
         lambda p: write_parts(p.with_suffix(".xlsx"), {**crm_workbook(p.with_suffix(".xlsx")),
                                                         "xl/worksheets/sheet1.xml": BILLION_LAUGHS}),
         Refused("declares entities")),
    Case("xlsx: a CSV saved under .xlsx", "crm",
         lambda p: crm_file(p, crm_cases()).rename(p.with_suffix(".xlsx")) or p.with_suffix(".xlsx"),
         Refused("not a valid .xlsx workbook")),
    Case("parquet: bytes that are no Parquet", "crm",
         lambda p: written(p.with_suffix(".parquet"), b"PAR1 not really"),
         Refused("")),
    # ---- API pages (JSONL) ------------------------------------------------------------------------
    Case("jsonl: a page without includes.users", "jsonl",
         lambda p: jsonl(p, json.dumps({"data": [tweet(1), tweet(2)], "meta": {}})),
         Loaded(2, 2, warning="came without a user record")),
    Case("jsonl: the last line cut off", "jsonl", lambda p: jsonl(p, PAGE, PAGE[:40]),
         Loaded(3, 2, duplicate=0, quarantined=1, lines={2: ""})),
    Case("jsonl: a line that is JSON but neither page nor tweet", "jsonl",
         lambda p: jsonl(p, PAGE, json.dumps({"hello": "world"})), Loaded(3, 2, quarantined=1, lines={2: "neither"})),
    Case("jsonl: a line nested 10,000 deep", "jsonl", lambda p: jsonl(p, PAGE, "[" * 10_000 + "]" * 10_000),
         Loaded(3, 2, quarantined=1, lines={2: ""})),
    Case("jsonl: the same page twice", "jsonl", lambda p: jsonl(p, PAGE, PAGE), Loaded(4, 2, duplicate=2)),
]


def _report_line(out: str, path: Path) -> str:
    [line] = [line for line in out.splitlines() if f" {path}: read " in line]
    return line


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_hostile_input(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "wh" / "carepulse.duckdb"
    seed = [row(50_001, "s1", False, at("09:00"), "@acme hi"), row(50_002, "acme", True, at("09:01"), "@s1 hello",
                                                                    parent=50_001)]
    assert main(["ingest", "twcs", str(write_twcs(tmp_path / "seed.csv", seed)), "--db", str(db)]) == 0
    capsys.readouterr()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    path = case.build(tmp_path / f"input.{'jsonl' if case.source == 'jsonl' else 'csv'}")
    extra = ["--account", "acme"] if case.source == "jsonl" else []
    code = main(["ingest", case.source, str(path), "--db", str(db), *extra])
    out, err = capsys.readouterr()
    if isinstance(case.expected, Refused):
        assert code == 2 and "Traceback" not in err
        [line] = err.strip().splitlines()
        assert line.startswith("error: ") and case.expected.words in line, line
        assert hashlib.sha256(db.read_bytes()).hexdigest() == before, "a refused file published something"
        return
    expected = case.expected
    assert code == 0, err
    line = _report_line(out, path)
    numbers = [int(n.replace(",", "")) for n in re.findall(r"(?:read|loaded|duplicate|quarantined) ([\d,]+)", line)]
    assert numbers == [expected.read, expected.loaded, expected.duplicate, expected.quarantined], line
    con = Warehouse(db).reader().connection()
    kept = con.execute("SELECT line, reason FROM quarantine WHERE file = ? ORDER BY line", [str(path)]).fetchall()
    assert {line_no: reason for line_no, reason in kept}.keys() == expected.lines.keys(), kept
    for line_no, reason in kept:
        assert reason and expected.lines[line_no] in reason, (line_no, reason)
    if expected.warning:
        assert "warning: " in out and expected.warning in out
    runs = con.execute("SELECT records_read, loaded + duplicate + quarantined FROM ingest_runs WHERE file = ?",
                       [str(path)]).fetchall()
    assert runs == [(expected.read, expected.read)]


def test_the_corpus_covers_at_least_25_kinds() -> None:
    assert len({c.kind for c in CASES}) == len(CASES) >= 25
