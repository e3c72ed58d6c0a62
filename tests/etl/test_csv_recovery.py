"""Record-level recovery in both CSV readers: one bad record must never sink a file.

Every test goes through the CLI (``carepulse ingest twcs|crm``) and checks the printed accounting
``read N = loaded + duplicate + quarantined`` (records, not physical lines) and the quarantine
rows (line, reason). TWCS files are built from the real 1,000-tweet sample, whose quoted
multi-line tweets make physical line numbers differ from record numbers, so a wrong line shows.
CRM files use the German example mapping (``;``, BOM, decimal comma).
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from carepulse.cli import main
from carepulse.core.config import Settings
from carepulse.etl import csv_recovery as rec
from carepulse.warehouse import Warehouse
from tests.conftest import SHARED_SAMPLE

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_MAPPING = REPO / "carepulse" / "etl" / "mappings" / "example_de.toml"
CRM_HEADER = ("Fallnummer;Kanal;Erstellt am;Geschlossen am;Ergebnis;Kundennummer;Twitter-Handle;Tweet-ID;"
              "Bearbeiter;Team;Kategorie;Bearbeitungszeit (Min);Zufriedenheit;Weiterempfehlung")
ACCOUNTING = re.compile(r"read ([\d,]+) = loaded ([\d,]+)(?: \(of which [\d,]+ updated\))? \+ duplicate ([\d,]+)"
                        r" \+ quarantined ([\d,]+)")


# ------------------------------------------------------------------------------------------------
# helpers


def _csv_line(fields: list[str], delimiter: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerow(fields)
    return buf.getvalue()[:-1]


def sample() -> tuple[str, list[str]]:
    """The sample's header and records as csv text (quoted where needed), without line ends."""
    rows = list(csv.reader(io.StringIO(SHARED_SAMPLE.read_text(encoding="utf-8"), newline="")))
    return _csv_line(rows[0]), [_csv_line(r) for r in rows[1:]]


def build(header: str, records: list[str], newline: str = "\n", final: bool = True) -> str:
    return newline.join([header, *records]) + (newline if final else "")


def line_of(header: str, records: list[str], index: int, newline: str = "\n") -> int:
    """The physical line on which record ``index`` starts (LF, CRLF and a lone CR end a line)."""
    return 1 + rec.count_breaks(build(header, records[:index], newline))


def plain(records: list[str], start: int) -> int:
    """The first record from ``start`` on that holds no quotes (its text is a bare field)."""
    return next(i for i in range(start, len(records)) if '"' not in records[i])


def tweet(tweet_id: int, text: str) -> str:
    return f"{tweet_id},c9,True,Tue Oct 31 22:10:47 +0000 2017,{text},,"


def cli(kind: str, path: Path, settings: Settings, capsys: pytest.CaptureFixture[str],
        *extra: str) -> tuple[int, tuple[int, ...] | None, list[str]]:
    """Exit code, (read, loaded, duplicate, quarantined) from the printed line, and stderr lines."""
    code = main(["ingest", kind, str(path), *extra, "--db", str(settings.db)])
    out, err = capsys.readouterr()
    found = ACCOUNTING.search(out)
    numbers = tuple(int(g.replace(",", "")) for g in found.groups()) if found else None
    return code, numbers, err.strip().splitlines()


def quarantine(settings: Settings) -> list[tuple[Any, ...]]:
    con = Warehouse(settings.db).reader().connection()
    return con.execute("SELECT line, record_no, reason, raw FROM quarantine ORDER BY coalesce(line, record_no)"
                       ).fetchall()


def query(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    return Warehouse(settings.db).reader().connection().execute(sql).fetchall()


def one_broken(tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str], at: int,
               text: str) -> tuple[int, tuple[Any, ...]]:
    """The public sample with one tweet of ``text`` inserted at record ``at``: loaded through the CLI, the
    other 1,000 load and this one is quarantined; returns its expected line and its quarantine row."""
    header, records = sample()
    records.insert(at, tweet(99999, text))
    path = tmp_path / "broken.csv"
    path.write_text(build(header, records), encoding="utf-8", newline="")
    assert cli("twcs", path, settings, capsys) == (0, (1001, 1000, 0, 1), [])
    [row] = quarantine(settings)
    return line_of(header, records, at), row


def tweet_text(settings: Settings, tweet_id: int) -> str:
    [(text,)] = query(settings, f"SELECT text FROM tweets WHERE tweet_id = {tweet_id}")
    return str(text)


def crm_row(i: int, category: str = "Rechnung", nps: str = "8") -> str:
    return f"F-{i};Telefon;24.11.2026 09:00;;offen;K-{i};;;Eva;Hotline;{category};7;4;{nps}"


def crm_file(path: Path, rows: list[str], newline: str = "\n") -> Path:
    path.write_bytes(("\ufeff" + newline.join([CRM_HEADER, *rows]) + newline).encode("utf-8"))
    return path


def crm(path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[int, tuple[int, ...] | None,
                                                                                    list[str]]:
    return cli("crm", path, settings, capsys, "--mapping", str(EXAMPLE_MAPPING))


# ------------------------------------------------------------------------------------------------
# the reproductions from the issue


def test_twcs_bare_cr_in_an_unquoted_text_is_recovered(tmp_path: Path, settings: Settings,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """pandas writes a CR inside a tweet unquoted; DuckDB used to stop the file (exit 2, nothing loaded)."""
    header, records = sample()
    i = plain(records, 500)
    tweet_id = int(records[i].split(",")[0])
    head, text = records[i].split(",", 4)[:4], records[i].split(",", 4)[4]
    records[i] = ",".join([*head, text.replace(" ", " \r", 1)])
    path = tmp_path / "cr.csv"
    path.write_text(build(header, records), encoding="utf-8", newline="")
    assert cli("twcs", path, settings, capsys) == (0, (1000, 1000, 0, 0), [])
    assert tweet_text(settings, tweet_id) == next(csv.reader([text.replace("\r", "")]))[0].replace(" ", " \r", 1)


def test_twcs_bare_cr_that_fits_neither_reading_is_quarantined_once_with_its_line(
        tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """As data the record has 9 fields, as a line end 5 + 6: ambiguous, so quarantined, once."""
    expected, (line, record_no, reason, raw) = one_broken(tmp_path, settings, capsys, 700, "a\rb,c,d,e")
    assert (line, record_no) == (expected, None)
    assert "too many columns" in reason and "line break that is not this file's line end" in reason
    assert raw == tweet(99999, "a\rb,c,d,e")


def test_twcs_late_invalid_utf8_byte_quarantines_its_record_with_its_line(
        tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    header, records = sample()
    i = plain(records, 950)  # past the first 64 KB and after the sample's multi-line tweets
    data = build(header, records).encode("utf-8")
    good = records[i].encode("utf-8")
    path = tmp_path / "latin.csv"
    path.write_bytes(data.replace(good, good.replace(b" ", b" \xe4", 1), 1))
    assert cli("twcs", path, settings, capsys) == (0, (1000, 999, 0, 1), [])
    [(line, _, reason, raw)] = quarantine(settings)
    assert line == line_of(header, records, i) > i + 2  # a physical line, not DuckDB's row count
    assert reason.startswith(f"invalid UTF-8 at line {line}: byte 0xE4")
    assert "\\xe4" in raw


def test_crm_bare_cr_in_a_field_is_one_record(tmp_path: Path, settings: Settings,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """It used to split the record into two quarantined pieces: read 501 for 500 records."""
    rows = [crm_row(i) for i in range(1, 501)]
    rows[249] = crm_row(250, category="Rech\rnung")
    assert crm(crm_file(tmp_path / "cr.csv", rows), settings, capsys) == (0, (500, 500, 0, 0), [])
    assert query(settings, "SELECT category FROM crm_cases WHERE case_id = 'F-250'") == [("Rech\rnung",)]


def test_crm_bare_cr_in_the_last_field_is_quarantined_once_at_its_line(
        tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """Read as data the record fits the header, but its score is no number: one record, one reason."""
    rows = [crm_row(i) for i in range(1, 501)]
    rows[249] = crm_row(250, nps="8\rx")
    assert crm(crm_file(tmp_path / "cr.csv", rows), settings, capsys) == (0, (500, 499, 0, 1), [])
    [(line, record_no, reason, _)] = quarantine(settings)
    assert (line, record_no, reason) == (251, 250, "nps '8\rx' is not an integer 0..10")


def test_crm_late_latin1_byte_quarantines_its_record_not_the_file(
        tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """It used to refuse the whole file and name line 1968 (the decoder's read-ahead) for line 2002."""
    rows = [crm_row(i) for i in range(1, 3001)]
    path = crm_file(tmp_path / "latin.csv", rows)
    path.write_bytes(path.read_bytes().replace(b"Hotline;Rechnung;7;4;8\nF-2002", b"Hotline;R\xe4chnung;7;4;8\nF-2002"))
    assert crm(path, settings, capsys) == (0, (3000, 2999, 0, 1), [])
    [(line, record_no, reason, raw)] = quarantine(settings)
    assert (line, record_no) == (2002, 2001)
    assert reason.startswith("invalid UTF-8 at line 2002: byte 0xE4 in column 'Kategorie'")
    assert "R\\xe4chnung" in raw


@pytest.mark.parametrize("kind", ["twcs", "crm"])
def test_a_header_of_100000_columns_is_refused_at_once(tmp_path: Path, settings: Settings,
                                                       capsys: pytest.CaptureFixture[str], kind: str) -> None:
    """2 MB of header used to cost DuckDB 77 s and 655 MB before the file was refused."""
    header, records = sample()
    if kind == "crm":
        header, records = CRM_HEADER, [crm_row(1)]
    delimiter = ";" if kind == "crm" else ","
    path = tmp_path / "wide.csv"
    path.write_text(build(header + delimiter + delimiter.join(f"c{i}" for i in range(100_000)), records[:5]),
                    encoding="utf-8")
    started = time.perf_counter()
    code, numbers, err = cli(kind, path, settings, capsys, *(("--mapping", str(EXAMPLE_MAPPING)) if kind == "crm"
                                                             else ()))
    assert time.perf_counter() - started < 1.0
    assert (code, numbers, len(err)) == (2, None, 1)
    assert err[0].startswith("error: ") and "at most 1,000 are supported" in err[0]
    assert not settings.db.exists()


# ------------------------------------------------------------------------------------------------
# more hostile TWCS input


def test_twcs_unterminated_quote_at_the_last_record_names_its_physical_line(
        tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    header, records = sample()
    records.append(tweet(99999, '"never closed'))
    path = tmp_path / "cut.csv"
    path.write_text(build(header, records, final=False), encoding="utf-8", newline="")
    assert cli("twcs", path, settings, capsys) == (0, (1001, 1000, 0, 1), [])
    [(line, _, reason, raw)] = quarantine(settings)
    assert line == line_of(header, records, 1000) == 1057  # DuckDB counts 1001 rows there
    assert reason.startswith("malformed CSV row (unquoted value)")
    assert raw == tweet(99999, '"never closed')


def test_twcs_unterminated_quote_mid_file_costs_only_its_own_record(
        tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """The open quote swallows the lines up to the next quote; those records are read on their own."""
    expected, (line, _, reason, raw) = one_broken(tmp_path, settings, capsys, 300, '"never closed')
    assert line == expected
    assert "unterminated quote" in reason and "never closed" in reason and "were read on their own" in reason
    assert raw == tweet(99999, '"never closed')


def test_twcs_nul_byte_in_a_field_is_kept_not_a_binary_file(tmp_path: Path, settings: Settings,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A NUL in the first 64 KB used to refuse the file as binary; it is a control character like \\x07."""
    header, records = sample()
    records.insert(3, tweet(99999, "a\x00b"))
    path = tmp_path / "nul.csv"
    path.write_text(build(header, records), encoding="utf-8", newline="")
    assert cli("twcs", path, settings, capsys) == (0, (1001, 1001, 0, 0), [])
    assert tweet_text(settings, 99999) == "a\x00b"


def test_twcs_crlf_file_with_one_bare_lf_in_a_text(tmp_path: Path, settings: Settings,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """As a spreadsheet writes it: CRLF ends rows, a bare LF inside quoted cells; plus one unquoted LF."""
    header, records = sample()
    multi_line = next(r for r in records if "\n" in r)
    records.insert(100, tweet(99999, "two\nlines"))
    path = tmp_path / "crlf.csv"
    path.write_text(build(header, records, "\r\n"), encoding="utf-8", newline="")
    assert cli("twcs", path, settings, capsys) == (0, (1001, 1001, 0, 0), [])
    assert tweet_text(settings, 99999) == "two\nlines"
    fields = next(csv.reader(io.StringIO(multi_line, newline="")))
    assert tweet_text(settings, int(fields[0])) == fields[4]


def test_twcs_too_many_and_too_few_fields_are_quarantined_at_their_lines(
        tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    header, records = sample()
    records.insert(400, tweet(99998, "x") + ",surplus")
    records.insert(800, "99999,c9,True")
    path = tmp_path / "fields.csv"
    path.write_text(build(header, records), encoding="utf-8", newline="")
    assert cli("twcs", path, settings, capsys) == (0, (1002, 1000, 0, 2), [])
    rows = quarantine(settings)
    assert [line for line, *_ in rows] == [line_of(header, records, 400), line_of(header, records, 800)]
    assert "too many columns" in rows[0][2] and "missing columns" in rows[1][2]


@pytest.mark.parametrize(("newline", "odd"), [("\n", "\r\n"), ("\r\n", "\n")])
def test_twcs_mixed_line_ends_load_every_record(tmp_path: Path, settings: Settings,
                                                capsys: pytest.CaptureFixture[str], newline: str, odd: str) -> None:
    """Every fifth record ends with the other line end (rows appended by another tool)."""
    header, records = sample()
    records = [r for r in records if "\n" not in r][:200]
    text = header + newline + "".join(r + (odd if i % 5 == 3 else newline) for i, r in enumerate(records))
    path = tmp_path / "mixed.csv"
    path.write_text(text, encoding="utf-8", newline="")
    assert cli("twcs", path, settings, capsys) == (0, (200, 200, 0, 0), [])
    assert query(settings, "SELECT count(*) FROM tweets WHERE in_reply_to_tweet_id IS NOT NULL")[0][0] > 50


def test_twcs_20_mb_field_is_quarantined_and_the_rest_loads(tmp_path: Path, settings: Settings,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    header, records = sample()
    records.insert(10, tweet(99999, "x" * 20_000_000))
    path = tmp_path / "big.csv"
    path.write_text(build(header, records), encoding="utf-8", newline="")
    assert cli("twcs", path, settings, capsys) == (0, (1001, 1000, 0, 1), [])
    [(line, _, reason, raw)] = quarantine(settings)
    assert line == line_of(header, records, 10)
    assert "line size over maximum" in reason and "16777216" in reason
    assert len(raw) == rec.RAW_LIMIT


def test_twcs_without_a_final_newline_and_header_only(tmp_path: Path, settings: Settings,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    header, records = sample()
    path = tmp_path / "nofinal.csv"
    path.write_text(build(header, records, final=False), encoding="utf-8", newline="")
    assert cli("twcs", path, settings, capsys) == (0, (1000, 1000, 0, 0), [])
    path.write_text(header, encoding="utf-8")
    assert cli("twcs", path, settings, capsys) == (0, (0, 0, 0, 0), [])


def test_twcs_bom_semicolons_and_a_bare_cr(tmp_path: Path, settings: Settings,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(csv.reader(io.StringIO(SHARED_SAMPLE.read_text(encoding="utf-8"), newline="")))[:101]
    rows[50][4] = rows[50][4] + "\rmore"
    body = "\n".join(_csv_line(r, ";").replace('"' + rows[50][4] + '"', rows[50][4]) for r in rows) + "\n"
    assert rows[50][4] in body  # written unquoted, as pandas does
    path = tmp_path / "semi.csv"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    assert cli("twcs", path, settings, capsys) == (0, (100, 100, 0, 0), [])
    assert tweet_text(settings, int(rows[50][0])).endswith("\rmore")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("tweet_id,author_id\r\n1,x\r\n".encode("utf-16"), "is UTF-16 text"),
        ("tweet_id,author_id\n1,x\n".encode("utf-16-le"), "is UTF-16 text"),
        (b"", "empty"),
        (("tweet_id,text\n" + "\n".join(f"{i},K\xe4se" for i in range(50))).encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_files_that_cannot_be_csv_are_refused_in_one_line(tmp_path: Path, settings: Settings,
                                                          capsys: pytest.CaptureFixture[str], content: bytes,
                                                          message: str) -> None:
    for kind, extra in (("twcs", ()), ("crm", ("--mapping", str(EXAMPLE_MAPPING)))):
        path = tmp_path / "bad.csv"
        path.write_bytes(content)
        code, numbers, err = cli(kind, path, settings, capsys, *extra)
        assert (code, numbers, len(err)) == (2, None, 1), (kind, err)
        assert err[0].startswith("error: ") and message in err[0]


# ------------------------------------------------------------------------------------------------
# more hostile CRM input


def test_crm_unterminated_quote_mid_file_costs_only_its_own_record(
        tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [crm_row(i) for i in range(1, 501)]
    rows[99] = crm_row(100, category='"never closed')
    assert crm(crm_file(tmp_path / "open.csv", rows), settings, capsys) == (0, (500, 499, 0, 1), [])
    [(line, record_no, reason, raw)] = quarantine(settings)
    assert (line, record_no) == (101, 100)
    assert "the 400 records on the lines it swallowed were read on their own" in reason
    assert raw == crm_row(100, category='"never closed')


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crm_stray_breaks_in_crlf_and_cr_files(tmp_path: Path, settings: Settings,
                                               capsys: pytest.CaptureFixture[str], newline: str) -> None:
    """Unquoted, a bare LF in a CRLF or CR file and a bare CR in a CRLF file are data; quoted, so is a CRLF."""
    rows = [crm_row(i) for i in range(1, 201)]
    rows[9] = crm_row(10, category="a\nb")
    rows[19] = crm_row(20, category='"c\r\nd"' if newline == "\r" else "c\rd")
    assert crm(crm_file(tmp_path / "f.csv", rows, newline), settings, capsys) == (0, (200, 200, 0, 0), [])
    assert query(settings, "SELECT category FROM crm_cases WHERE case_id IN ('F-10', 'F-20') ORDER BY 1") == [
        ("a\nb",), ("c\r\nd" if newline == "\r" else "c\rd",)]


def test_crm_mixed_line_ends_load_every_record(tmp_path: Path, settings: Settings,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    rows = [crm_row(i) for i in range(1, 301)]
    text = "\ufeff" + CRM_HEADER + "\r\n" + "".join(r + ("\n" if i % 7 == 3 else "\r\n") for i, r in enumerate(rows))
    path = tmp_path / "mixed.csv"
    path.write_bytes(text.encode("utf-8"))
    assert crm(path, settings, capsys) == (0, (300, 300, 0, 0), [])


def test_crm_20_mb_field_too_many_and_too_few_fields(tmp_path: Path, settings: Settings,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    rows = [crm_row(i) for i in range(1, 101)]
    rows[9] = crm_row(10, category="x" * 20_000_000)
    rows[19] = crm_row(20) + ";surplus"
    rows[29] = "F-30;Telefon"
    assert crm(crm_file(tmp_path / "f.csv", rows), settings, capsys) == (0, (100, 97, 0, 3), [])
    assert [(line, reason[:40]) for line, _, reason, _ in quarantine(settings)] == [
        (11, "a field is longer than 16 MiB, the most "),
        (21, "expected 14 fields (as in the header), f"),
        (31, "expected 14 fields (as in the header), f"),
    ]


# ------------------------------------------------------------------------------------------------
# the building blocks


def test_physical_lines_count_lf_crlf_and_lone_cr(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(b"a\nb\r\nc\rd\n\ne")
    import numpy as np

    positions = np.array([0, 2, 5, 7, 9, 10, 100], dtype=np.int64)
    assert rec.physical_lines(path, positions).tolist() == [1, 2, 3, 4, 5, 6, 6]


def test_row_starts_undo_duckdbs_offsets(tmp_path: Path) -> None:
    """DuckDB reports one byte past a row's start after an LF, the start itself after a CRLF."""
    import numpy as np

    path = tmp_path / "rows.csv"
    path.write_bytes(b"h\nab\r\ncd\nef")
    assert rec.row_starts(path, np.array([3, 6, 10], dtype=np.int64)).tolist() == [2, 6, 9]


def test_reread_needs_every_record_whole() -> None:
    assert rec.reread("1,a\rb,2", ",", 3) == ([], False)  # a CR read as data: that is DuckDB's job
    assert rec.reread("1,a,2\r3,b,4", ",", 3) == ([(0, ["1", "a", "2"]), (1, ["3", "b", "4"])], False)
    assert rec.reread('1,"open,2\n3,b,4\n5,c,6', ",", 3) == ([(1, ["3", "b", "4"]), (2, ["5", "c", "6"])], True)
    assert rec.reread("1,a\n3,b,4", ",", 3) == ([], False)


def test_clean_files_never_take_a_recovery_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """No sanitized copy, no record read again in Python: also not for a spreadsheet's CRLF export
    whose quoted multi-line cells hold bare LFs (stray breaks, but quoted ones)."""
    def refuse(*args: object) -> None:
        raise AssertionError("a recovery path ran for a clean file")

    for name in ("write_sanitized_copy", "read_with_strays", "recover", "reread"):
        monkeypatch.setattr(rec, name, refuse)
    assert cli("twcs", SHARED_SAMPLE, settings, capsys) == (0, (1000, 1000, 0, 0), [])
    rows = [crm_row(i, category='"two\nlines"' if i % 3 else "Rechnung") for i in range(1, 101)]
    rows[99] = rows[99].replace("Telefon", "Brieftaube")
    assert crm(crm_file(tmp_path / "clean.csv", rows, "\r\n"), settings, capsys) == (0, (100, 99, 0, 1), [])
    assert query(settings, "SELECT count(*) FROM crm_cases WHERE category = 'two\nlines'") == [(66,)]
    [(line, record_no, reason, _)] = quarantine(settings)
    assert (line, record_no) == (1 + 66 * 2 + 33 + 1, 100) and reason.startswith("unknown channel 'Brieftaube'")


def test_duckdb_still_aborts_on_a_stray_break(tmp_path: Path) -> None:
    """Why the sanitized copy exists: if this ever passes, DuckDB reads stray breaks itself."""
    path = tmp_path / "cr.csv"
    path.write_bytes(b"a,b\n1,x\ry\n2,z\n")
    with pytest.raises(duckdb.Error):
        duckdb.connect().execute(
            f"SELECT * FROM read_csv('{path}', columns = {{'a': 'VARCHAR', 'b': 'VARCHAR'}}, auto_detect = false, "
            "header = true, new_line = '\\n', store_rejects = true)").fetchall()


STRAY_CASES = [
    (b"a,b\r\nc,d\r\n", "\r\n", False), (b"a,b\r\nc\nd\r\n", "\r\n", True), (b"\na\r\n", "\r\n", True),
    (b"abc\r\ndef\r\n", "\r\n", False), (b"abcd\r\nefg\r\n", "\r\n", False), (b"ab\rx\r\n", "\r\n", True),
    (b"a\nb\n", "\n", False), (b"a\nb\rc\n", "\n", True), (b"a\rb\r", "\r", False), (b"a\rb\nc\r", "\r", True),
    (b"", "\n", False), (b"x" * 10_000 + b"\r", "\n", True), (b"x" * 10_000 + b"\n", "\n", False),
]


@pytest.mark.parametrize("chunk", [4, 1 << 24])
def test_stray_breaks_are_found_across_chunk_and_page_boundaries(tmp_path: Path, chunk: int,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 4 bytes cut every CRLF in two (the CR in one chunk, the LF in the next) and put the stray
    byte of the 10 kB rows past the first memory page."""
    monkeypatch.setattr(rec, "_SCAN_CHUNK", chunk)
    for data, line_end, stray in STRAY_CASES:
        path = tmp_path / "f.csv"
        path.write_bytes(data)
        assert rec.has_stray_breaks(path, line_end) is stray, (data[:24], line_end)


def test_scanning_a_big_file_for_stray_breaks_does_not_hold_it_in_memory(tmp_path: Path) -> None:
    """The scan of a 256 MB file leaves the process's peak resident memory well below the file's size (a
    mapped file's pages counted as the load's memory: a 1.9 GB file showed a 1.8 GB peak)."""
    import subprocess
    import sys

    big = tmp_path / "big.csv"
    row = b"1,c1,True,Tue Oct 31 10:00:00 +0000 2017,a reply with some words in it,,\n"
    with big.open("wb") as fh:
        fh.write(row * (256 * 2**20 // len(row)))
    code = ("import sys; from pathlib import Path; from carepulse.etl.csv_recovery import has_stray_breaks; "
            "assert not has_stray_breaks(Path(sys.argv[1]), '\\n'); "
            "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])")
    peak_kb = int(subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True, text=True,
                                 check=True).stdout)
    assert peak_kb < 160 * 1024  # Python, numpy and DuckDB's imports, not the file's 256 MB
