"""Every resource failure is one ``error:`` line and exit 2; nothing is half-published (docs/warehouse.md,
"When things fail").

Each test checks the same four things: stderr is exactly one line starting ``error: `` (no traceback),
the exit code is 2, the published warehouse is byte-identical before and after, and no work file
(``.<db>.<pid>.<thread>.loading`` with its ``.wal`` and ``.tmp``) is left behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import openpyxl
import pytest

from carepulse.cli import main
from carepulse.etl.sources.crm import xlsx_guard
from carepulse.etl.sources.crm.mapping import FIELD_NAMES
from tests.twcs_helpers import at, row, write_twcs

ONE_ROW = [row(9_000_001, "c1", False, at("10:00"), "@acme hi"),
           row(9_000_002, "acme", True, at("10:01"), "@c1 hello", parent=9_000_001)]


# ---- helpers --------------------------------------------------------------------------------------

def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if ".loading" in p.name)


def one_error_line(err: str) -> str:
    """The single ``error: ...`` line, after checking that stderr holds nothing else."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


@pytest.fixture
def published(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A small real warehouse, loaded through the CLI."""
    db = tmp_path / "wh" / "carepulse.duckdb"
    assert main(["ingest", "twcs", str(write_twcs(tmp_path / "small.csv", ONE_ROW)), "--db", str(db)]) == 0
    capsys.readouterr()
    return db


@pytest.fixture
def tweets_file(tmp_path: Path) -> Path:
    """20,000 tweets with 200-character texts: a load that writes several MB (WAL, then the file)."""
    rows = [row(10_000_000 + i, f"c{i % 700}", False, at("09:00", day=i % 30), f"@acme {i} " + "x" * 200)
            for i in range(20_000)]
    return write_twcs(tmp_path / "tweets.csv", rows)


def crm_workbook(path: Path) -> dict[str, bytes]:
    """A real workbook with the canonical header and one case; returns its parts by name."""
    workbook = openpyxl.Workbook()
    workbook.worksheets[0].append(list(FIELD_NAMES))
    workbook.worksheets[0].append(["C-1", "twitter", "2026-01-10 09:00"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    path.write_bytes(buffer.getvalue())
    return parts


def write_parts(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def zip_bomb(path: Path, claimed_gib: int = 2) -> Path:
    """A genuine XLSX zip bomb: every part of a real workbook, but a sheet of ``claimed_gib`` GiB of rows
    deflated to about 1/1000 of that. Written by hand (deflate blocks after a full flush are
    independent, so one compressed 8 MiB chunk is repeated), with a correct CRC: an unguarded reader
    would really inflate it."""
    parts = crm_workbook(path)
    sheet = "xl/worksheets/sheet1.xml"
    head = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><sheetData>')
    row_xml = b'<row><c t="inlineStr"><is><t>lol</t></is></c></row>' + b" " * 4044  # 4 KiB: rows and blank space
    chunk = row_xml * (8 * 1024 * 1024 // len(row_xml))
    tail = b"</sheetData></worksheet>"
    repeats = -(-claimed_gib * 1024 * 1024 * 1024 // len(chunk))  # rounded up: at least the claim
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw_head = deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH)
    raw_chunk = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    raw_tail = deflate.compress(tail) + deflate.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + repeats * len(chunk) + len(tail)
    assert size < 2**32  # no ZIP64 needed

    entries: list[tuple[bytes, int, int, int, Iterator[bytes]]] = []
    for name, data in parts.items():
        if name == sheet:
            compressed_size = len(raw_head) + repeats * len(raw_chunk) + len(raw_tail)
            body: Iterator[bytes] = iter([raw_head, *([raw_chunk] * repeats), raw_tail])
            entries.append((name.encode(), crc & 0xFFFFFFFF, size, compressed_size, body))
        else:
            packed = zlib.compressobj(9, zlib.DEFLATED, -15)
            raw = packed.compress(data) + packed.flush()
            entries.append((name.encode(), zlib.crc32(data), len(data), len(raw), iter([raw])))
    central = b""
    with path.open("wb") as out:
        for name_bytes, member_crc, member_size, member_compressed, member_body in entries:
            offset = out.tell()
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, member_crc, member_compressed,
                                  member_size, len(name_bytes), 0) + name_bytes)
            for piece in member_body:
                out.write(piece)
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, member_crc,
                                   member_compressed, member_size, len(name_bytes), 0, 0, 0, 0, 0, offset) + name_bytes
        start = out.tell()
        out.write(central)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0))
    return path


BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
                  + b"".join(f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">\n'.encode()
                             for n in range(1, 10))
                  + b']>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')


# ---- disk full, file size limit, out of memory ----------------------------------------------------

LIMITED = r"""
import resource, signal, sys
limit = int(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit then fail with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from carepulse.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("stage", ["copy", "load"])
def test_a_full_disk_publishes_nothing_and_removes_the_work_file_at_once(published: Path, tweets_file: Path,
                                                                          stage: str) -> None:
    """Simulated with the file size limit (RLIMIT_FSIZE, no root needed): writes fail with EFBIG as they
    would with ENOSPC. ``copy``: the limit is below the published file, so the snapshot copy fails half
    way; ``load``: the copy fits, the load's WAL or checkpoint does not."""
    before = digest(published)
    size = published.stat().st_size
    limit = size // 2 if stage == "copy" else size + 256 * 1024
    done = subprocess.run([sys.executable, "-c", LIMITED, str(limit), "ingest", "twcs", str(tweets_file),
                           "--db", str(published)], capture_output=True, text=True, timeout=300, check=False)
    line = one_error_line(done.stderr)
    assert done.returncode == 2
    assert line.startswith("error: file too large (the file size limit, ulimit -f, was reached) while writing ")
    assert ".loading" in line and line.endswith(f": nothing was published ({published} is unchanged)")
    assert digest(published) == before
    assert leftovers(published) == []


def test_out_of_memory_in_duckdb_is_one_line_with_a_hint(published: Path, tweets_file: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from carepulse.warehouse import store

    monkeypatch.setattr(store, "WRITE_MEMORY_LIMIT", "2MB")
    before = digest(published)
    code, err = run(["ingest", "twcs", str(tweets_file), "--db", str(published)], capsys)
    line = one_error_line(err)
    assert code == 2
    assert line.startswith("error: out of memory while loading (")
    assert "a load's DuckDB memory_limit is 2MB" in line and "load fewer or smaller files" in line
    assert "nothing was published" in line
    assert digest(published) == before and leftovers(published) == []


def test_a_python_memory_error_during_a_load_is_one_line(published: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from carepulse.warehouse import store

    def exhausted(con: duckdb.DuckDBPyConnection) -> None:
        raise MemoryError

    monkeypatch.setattr(store, "apply_schema", exhausted)
    before = digest(published)
    code, err = run(["ingest", "twcs", str(write_twcs(tmp_path / "more.csv", ONE_ROW)), "--db", str(published)],
                    capsys)
    assert one_error_line(err).startswith("error: out of memory while loading (a load's DuckDB memory_limit is ")
    assert code == 2 and digest(published) == before and leftovers(published) == []


# ---- damaged, foreign, newer, locked warehouse files ----------------------------------------------

def spoil(db: Path, kind: str) -> str:
    """Turn the warehouse into a bad file of ``kind``; returns what the error line must say."""
    if kind == "random bytes":
        db.write_bytes(os.urandom(300_000))
        return "is not a DuckDB database file (damaged, or another kind of file): restore it from a backup"
    if kind == "truncated":
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
        return "is truncated ("
    if kind == "foreign":
        db.unlink()
        con = duckdb.connect(str(db))
        con.execute("CREATE TABLE customers (id INTEGER)")
        con.close()
        return "is a DuckDB database but not a carepulse warehouse (no meta.schema_version; its tables: customers)"
    if kind == "newer":
        con = duckdb.connect(str(db))
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        con.close()
        return "was written by a newer carepulse (schema version 99; this one knows up to 2): upgrade carepulse"
    raise AssertionError(kind)


BAD_KINDS = ["random bytes", "truncated", "foreign", "newer"]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_metrics_and_ingest_refuse_a_bad_warehouse_in_one_line(published: Path, kind: str, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    says = spoil(published, kind)
    before = digest(published)
    code, err = run(["metrics", "--db", str(published)], capsys)
    assert code == 2 and says in one_error_line(err)
    code, err = run(["ingest", "twcs", str(write_twcs(tmp_path / "more.csv", ONE_ROW)), "--db", str(published)],
                    capsys)
    assert code == 2 and says in one_error_line(err)
    assert digest(published) == before and leftovers(published) == []


@pytest.mark.parametrize("kind", ["random bytes", "foreign"])
def test_serve_refuses_to_start_on_a_bad_warehouse(published: Path, kind: str) -> None:
    says = spoil(published, kind)
    done = subprocess.run([sys.executable, "-m", "carepulse.cli", "serve", "--db", str(published), "--port", "1"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and says in one_error_line(done.stderr)
    assert done.stdout == ""  # not even "preparing the Pilot page"


HOLDER = r"""
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])  # read-write: DuckDB's lock on the file, as a duckdb shell would hold it
print("holding", flush=True)
time.sleep(120)
"""


def test_a_file_locked_by_another_program_is_one_line(published: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(published)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        before = digest(published)
        for args in (["metrics", "--db", str(published)],
                     ["ingest", "twcs", str(write_twcs(tmp_path / "more.csv", ONE_ROW)), "--db", str(published)]):
            code, err = run(args, capsys)
            line = one_error_line(err)
            assert code == 2
            assert f"{published} is locked by another program (" in line and f"PID {holder.pid})" in line
        assert digest(published) == before and leftovers(published) == []
    finally:
        holder.kill()
        holder.wait()


# ---- hostile workbooks ----------------------------------------------------------------------------

def test_a_zip_bomb_is_refused_from_its_directory_before_inflating(published: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bomb = zip_bomb(tmp_path / "cases.xlsx")
    assert bomb.stat().st_size < 5 * 1024 * 1024
    with zipfile.ZipFile(bomb) as archive:  # a readable archive that claims over 2 GiB
        assert sum(m.file_size for m in archive.infolist()) > 2 * 1024**3
    before = digest(published)
    code, err = run(["ingest", "crm", str(bomb), "--db", str(published)], capsys)
    line = one_error_line(err)
    assert code == 2
    assert line.startswith(f"error: {bomb}: refused: the workbook would unpack to 2.0 GB (at most 1.0 GB")
    assert "save it as CSV" in line
    assert digest(published) == before and leftovers(published) == []


def test_a_part_compressed_beyond_the_ratio_cap_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          published: Path) -> None:
    parts = crm_workbook(tmp_path / "cases.xlsx")
    parts["xl/worksheets/sheet1.xml"] = b"<worksheet>" + b" " * (64 * 1024 * 1024) + b"</worksheet>"
    path = write_parts(tmp_path / "cases.xlsx", parts)
    code, err = run(["ingest", "crm", str(path), "--db", str(published)], capsys)
    line = one_error_line(err)
    assert code == 2
    assert "the part xl/worksheets/sheet1.xml would unpack " in line and "real sheets stay under 200:1" in line


def test_the_size_and_member_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from carepulse.core.errors import DataError

    path = tmp_path / "cases.xlsx"
    crm_workbook(path)
    xlsx_guard.check_workbook(path)  # a real workbook passes
    monkeypatch.setattr(xlsx_guard, "MAX_UNCOMPRESSED_BYTES", 1000)
    with pytest.raises(DataError, match=r"would unpack to .* \(at most 1,000 bytes"):
        xlsx_guard.check_workbook(path)
    monkeypatch.undo()
    monkeypatch.setattr(xlsx_guard, "MAX_MEMBERS", 3)
    with pytest.raises(DataError, match=r"members \(at most 3\)"):
        xlsx_guard.check_workbook(path)
    monkeypatch.undo()
    many = tmp_path / "many.xlsx"  # refused from the end record, before zipfile builds 10,001 entries
    with zipfile.ZipFile(many, "w") as archive:
        for n in range(xlsx_guard.MAX_MEMBERS + 1):
            archive.writestr(f"part{n}.xml", b"")
    with pytest.raises(DataError, match=r"the archive has 10,001 members \(at most 10,000\)"):
        xlsx_guard.check_workbook(many)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_a_billion_laughs_workbook_is_refused_not_expanded(tmp_path: Path, part: str, published: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    parts = crm_workbook(tmp_path / "cases.xlsx")
    parts[part] = BILLION_LAUGHS
    path = write_parts(tmp_path / "cases.xlsx", parts)
    assert path.stat().st_size < 10_000
    before = digest(published)
    code, err = run(["ingest", "crm", str(path), "--db", str(published)], capsys)
    assert one_error_line(err) == (f"error: {path}: refused: an XML part declares entities or a DTD "
                                   "(EntitiesForbidden), which Excel never writes: an XML bomb or an "
                                   "external-entity attack, not an export")
    assert code == 2 and digest(published) == before


def test_openpyxl_parses_through_defusedxml(monkeypatch: pytest.MonkeyPatch) -> None:
    import defusedxml.ElementTree
    import openpyxl.xml
    import openpyxl.xml.functions

    from carepulse.core.errors import DataError

    assert openpyxl.xml.DEFUSEDXML is True
    assert openpyxl.xml.functions.iterparse is defusedxml.ElementTree.iterparse
    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    with pytest.raises(DataError, match="read only through defusedxml"):
        xlsx_guard.check_parser()


def test_a_file_named_xlsx_that_is_no_zip_is_one_line(tmp_path: Path, published: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cases.xlsx"
    path.write_text("case_id;channel;opened_at\nC-1;twitter;2026-01-10\n", encoding="utf-8")
    code, err = run(["ingest", "crm", str(path), "--db", str(published)], capsys)
    assert one_error_line(err).startswith(f"error: {path}: not a valid .xlsx workbook (not a zip archive")
    assert code == 2


# ---- the CLI's last resort, and paths SQL must quote ----------------------------------------------

@pytest.mark.parametrize(("raised", "says"), [
    (OSError(28, "No space left on device", "/data/x.csv"), "error: no space left on device while writing /data/x.csv"),
    (duckdb.IOException('IO Error: Could not write file "/d/w.duckdb": No space left on device\nmore'),
     "error: no space left on device while writing /d/w.duckdb"),
    (duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 1.0 GiB"),
     "error: out of memory (failed to allocate data of size 1.0 GiB): free memory, or load fewer or smaller files"),
    (MemoryError(), "error: out of memory: free memory, or load fewer or smaller files"),
    (duckdb.BinderException('Binder Error: column "x" not found\nLINE 1: ...'),
     'error: Binder Error: column "x" not found'),
])
def test_any_os_memory_or_duckdb_error_escaping_a_command_is_one_line(
        raised: BaseException, says: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    from carepulse.cli.commands import metrics

    def fail(args: object) -> int:
        raise raised

    monkeypatch.setattr(metrics, "run", fail)
    code, err = run(["metrics", "--db", str(tmp_path / "x.duckdb")], capsys)
    assert code == 2 and one_error_line(err).startswith(says)


def test_the_last_resort_keeps_bugs_and_interrupts_as_they_were(monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    from carepulse.cli.commands import metrics

    def bug(args: object) -> int:
        raise ValueError("a bug")

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(metrics, "run", bug)
    with pytest.raises(ValueError, match="a bug"):
        main(["metrics", "--db", str(tmp_path / "x.duckdb")])
    monkeypatch.setattr(metrics, "run", interrupted)
    assert main(["metrics", "--db", str(tmp_path / "x.duckdb")]) == 130
    assert capsys.readouterr().err == "interrupted: nothing was published\n"


def test_verbose_logs_the_traceback_after_the_line(tmp_path: Path) -> None:
    script = ("import sys\nfrom carepulse.cli.commands import metrics\n"
              "def fail(args):\n    raise OSError(28, 'No space left on device', '/data/x.csv')\n"
              "metrics.run = fail\nfrom carepulse.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", script, "-v", "metrics", "--db", str(tmp_path / "x.duckdb")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0] == "error: no space left on device while writing /data/x.csv"
    assert "Traceback" in done.stderr


def test_a_db_path_with_a_quote_and_a_space_loads_and_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            tweets_file: Path) -> None:
    db = tmp_path / "o'brien's data" / "ware house's.duckdb"
    first = write_twcs(tmp_path / "first.csv", ONE_ROW)
    assert main(["ingest", "twcs", str(first), "--db", str(db)]) == 0  # a new file
    assert main(["ingest", "twcs", str(tweets_file), "--db", str(db)]) == 0  # the copy of a published one
    capsys.readouterr()
    assert main(["metrics", "--db", str(db), "--format", "json", "--metrics", "tweets"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total"]["tweets"] == 20_002
    assert leftovers(db) == []


# ---- the dashboard over a file that goes bad while serving ----------------------------------------

DASHBOARD = r"""
import json, os, sys
from pathlib import Path
from carepulse.core.config import Settings
from carepulse.dashboard.app import create_app

db = Path(sys.argv[1])
app = create_app(db, Settings(db=db))
client = app.server.test_client()

def post(outputs, inputs):
    names = [f"{o['id']}.{o['property']}" for o in outputs]
    body = {"output": names[0] if len(names) == 1 else ".." + "...".join(names) + "..",
            "outputs": outputs[0] if len(outputs) == 1 else outputs,
            "inputs": inputs, "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs], "state": []}
    answer = client.post("/_dash-update-component", json=body)
    return [answer.status_code, answer.get_data(as_text=True)]

def page(path):
    return post([{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
                [{"id": "_pages_location", "property": "pathname", "value": path},
                 {"id": "_pages_location", "property": "search", "value": ""}])

summary = lambda: post([{"id": "data-summary", "property": "children"}],
                       [{"id": "data-query", "property": "data", "value": {}}])
out = {"before": {"page": page("/data")[0], "summary": summary()}}
junk = db.with_name("junk")
junk.write_bytes(os.urandom(200_000))
os.replace(junk, db)  # the file goes bad while the app serves
out["after"] = {"pages": {path: page(path) for path in ("/", "/team", "/explore", "/data")},
                "summary": summary(), "export": [client.get("/export/threads.csv").status_code,
                                                 client.get("/export/threads.csv").get_data(as_text=True)]}
print(json.dumps(out))
"""


def test_the_dashboard_shows_an_error_panel_when_the_warehouse_goes_bad(published: Path) -> None:
    done = subprocess.run([sys.executable, "-c", DASHBOARD, str(published)], capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["before"]["page"] == 200 and out["before"]["summary"][0] == 200
    assert "The warehouse cannot be read" not in out["before"]["summary"][1]
    reason = f"{published} is not a DuckDB database file (damaged, or another kind of file)"
    for path, (status, body) in out["after"]["pages"].items():
        assert status == 200, path
        assert "The warehouse cannot be read" in body and reason in body.replace("\\u002f", "/"), path
    status, body = out["after"]["summary"]
    assert status == 200  # not a 500: the callback's outputs stay, the shell's panel says why
    assert '"sideUpdate":{"warehouse-alert"' in body and reason in body.replace("\\u002f", "/")
    assert out["after"]["export"][0] == 503 and reason in out["after"]["export"][1]
