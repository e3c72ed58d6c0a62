"""TWCS ingest: the real sample, reloads, overlaps, and every kind of broken input we know of."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from carepulse.cli import main
from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_tweets
from carepulse.warehouse import Warehouse
from tests.twcs_helpers import HEADER, at, row, twitter_time, write_twcs

GOOD = [
    row(1, "c1", False, at("10:00"), "@acme help"),
    row(2, "acme", True, at("10:02"), "@c1 sure", parent=1),
    row(3, "c2", False, at("11:00"), "@acme hi"),
]


def ingest(settings: Settings, *files: Path):
    return ingest_tweets(Warehouse(settings.db), "twcs", list(files), settings)


def reader(settings: Settings) -> duckdb.DuckDBPyConnection:
    return Warehouse(settings.db).reader().connection()


def snapshot(settings: Settings) -> dict[str, list[tuple]]:
    con = reader(settings)
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("tweets", "threads", "accounts")}


def test_the_real_sample_gives_the_agreed_numbers_and_a_reload_changes_nothing(
    shared_sample: Path, settings: Settings
) -> None:
    first = ingest(settings, shared_sample)
    assert (first.files[0].records_read, first.files[0].loaded) == (1000, 1000)
    assert first.totals["tweets"] == 1000
    assert first.totals["brand_accounts"] == 43
    assert first.totals["threads"] == 281
    assert first.totals["answered_threads"] == 263
    before = snapshot(settings)
    second = ingest(settings, shared_sample)
    assert (second.files[0].loaded, second.files[0].duplicate, second.files[0].quarantined) == (0, 1000, 0)
    assert snapshot(settings) == before


def test_the_cli_prints_the_accounting_and_stores_the_run(shared_sample: Path, settings: Settings,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "twcs", str(shared_sample), "--db", str(settings.db)]) == 0
    out = capsys.readouterr().out
    assert "read 1,000 = loaded 1,000 + duplicate 0 + quarantined 0" in out
    assert "281 threads (263 answered), 43 brand accounts" in out
    runs = reader(settings).execute(
        "SELECT source, records_read, loaded, duplicate, quarantined FROM ingest_runs"
    ).fetchall()
    assert runs == [("twcs", 1000, 1000, 0, 0)]


def test_overlapping_files_dedupe_by_tweet_id(tmp_path: Path, settings: Settings) -> None:
    a = write_twcs(tmp_path / "a.csv", GOOD[:2])
    b = write_twcs(tmp_path / "b.csv", GOOD[1:])
    report = ingest(settings, a, b)
    assert [(f.loaded, f.duplicate) for f in report.files] == [(2, 0), (1, 1)]
    assert report.totals["tweets"] == 3


def test_pandas_resaved_copy_with_index_column_and_float_ids(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "resaved.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["", *HEADER])
        w.writerow(["0", "1.0", "c1", "True", twitter_time(at("10:00")), "@acme help", "2.0", ""])
        w.writerow(["1", "2.0", "acme", "False", twitter_time(at("10:02")), "@c1 ok", "", "1.0"])
    report = ingest(settings, path)
    assert report.files[0].loaded == 2
    con = reader(settings)
    assert con.execute("SELECT tweet_id, parent_id FROM tweets ORDER BY 1").fetchall() == [(1, None), (2, 1)]
    assert con.execute("SELECT first_response_seconds FROM threads").fetchall() == [(120.0,)]


def test_padded_and_iso_times_and_a_blank_parent_read_as_written(tmp_path: Path, settings: Settings) -> None:
    """Times are parsed as written first and trimmed only when that fails; a parent of spaces is no parent."""
    path = tmp_path / "padded.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerow(["1", "c1", "True", "  " + twitter_time(at("10:00")) + " ", "@acme help", "", ""])
        w.writerow(["2", "acme", "False", "2017-10-31 10:02:00+00", "@c1 ok", "", "1"])
        w.writerow(["3", "c2", "True", twitter_time(at("11:00")), "@acme hi", "", "   "])
    report = ingest(settings, path)
    assert (report.files[0].loaded, report.files[0].quarantined) == (3, 0)
    con = reader(settings)
    assert con.execute("SELECT tweet_id, parent_id, created_at = ?::TIMESTAMPTZ FROM tweets ORDER BY 1",
                       [at("10:00")]).fetchall() == [(1, None, True), (2, 1, False), (3, None, False)]
    assert con.execute("SELECT first_response_seconds FROM threads WHERE customer_id = 'c1'").fetchall() == \
        [(120.0,)]


def test_text_with_newlines_quotes_emoji_and_control_characters_survives(tmp_path: Path, settings: Settings) -> None:
    text = 'line one\nline "two"\r\n🤥 💯 \x07bell, comma; semicolon'
    ingest(settings, write_twcs(tmp_path / "t.csv", [row(1, "c1", False, at("10:00"), text)]))
    assert reader(settings).execute("SELECT text FROM tweets").fetchone() == (text,)


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_bare_cr_line_ends(tmp_path: Path, settings: Settings, newline: str) -> None:
    report = ingest(settings, write_twcs(tmp_path / "cr.csv", GOOD, newline=newline))
    assert report.files[0].loaded == 3 and report.totals["threads"] == 2


def test_semicolon_separated_with_bom(tmp_path: Path, settings: Settings) -> None:
    path = write_twcs(tmp_path / "semi.csv", GOOD, delimiter=";")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    report = ingest(settings, path)
    assert report.files[0].loaded == 3


def test_bad_records_are_quarantined_with_reasons_and_the_rest_loads(tmp_path: Path, settings: Settings) -> None:
    rows = [
        *GOOD,
        ["x7", "c3", "True", twitter_time(at("12:00")), "bad id", "", ""],
        ["8", "c3", "maybe", twitter_time(at("12:00")), "bad inbound", "", ""],
        ["9", "c3", "True", "yesterday-ish", "bad date", "", ""],
        ["10", "c3", "True", twitter_time(at("12:00")), "bad parent", "", "abc"],
        ["11", "", "True", twitter_time(at("12:00")), "no author", "", ""],
        ["1", "c1", "True", twitter_time(at("10:00")), "@acme help EDITED", "", ""],  # same id, other text
        ["2", "acme", "False", twitter_time(at("10:02")), "@c1 sure", "", "1"],  # exact repeat
    ]
    path = write_twcs(tmp_path / "bad.csv", rows)
    with path.open("a", encoding="utf-8") as fh:
        fh.write('12,c4,True,Tue Oct 31 12:00:00 +0000 2017,"truncated last record')
    report = ingest(settings, path)
    f = report.files[0]
    assert (f.records_read, f.loaded, f.duplicate, f.quarantined) == (11, 3, 1, 7)
    reasons = reader(settings).execute(
        "SELECT line, record_no, reason FROM quarantine ORDER BY record_no, line"
    ).fetchall()
    text = " | ".join(r[2] for r in reasons)
    for expected in ("invalid tweet_id 'x7'", "invalid inbound 'maybe'", "unparseable created_at 'yesterday-ish'",
                     "invalid in_response_to_tweet_id 'abc'", "missing author_id",
                     "conflicting duplicate of tweet 1", "text differ", "malformed CSV row"):
        assert expected in text
    truncated = [r for r in reasons if "malformed" in r[2]]
    assert truncated[0][0] == 12  # header is line 1, ten data rows follow, the truncated one is line 12


def test_conflict_with_an_earlier_load_is_quarantined_not_overwritten(tmp_path: Path, settings: Settings) -> None:
    ingest(settings, write_twcs(tmp_path / "a.csv", GOOD))
    changed = [row(3, "c2", False, at("11:00"), "@acme totally different")]
    report = ingest(settings, write_twcs(tmp_path / "b.csv", changed))
    assert (report.files[0].loaded, report.files[0].quarantined) == (0, 1)
    assert reader(settings).execute("SELECT text FROM tweets WHERE tweet_id = 3").fetchone() == ("@acme hi",)


def test_header_only_file_reads_zero_records(tmp_path: Path, settings: Settings) -> None:
    report = ingest(settings, write_twcs(tmp_path / "h.csv", []))
    assert report.files[0].records_read == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        (b"id,name\n1,x\n", "not a TWCS file"),
    ],
)
def test_unreadable_files_give_one_line_exit_2_and_write_nothing(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    good = write_twcs(tmp_path / "good.csv", GOOD)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    assert main(["ingest", "twcs", str(good), str(bad), "--db", str(settings.db)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not settings.db.exists()  # the good file of the same command was not published either


def test_a_crash_midway_leaves_the_published_warehouse_untouched(tmp_path: Path, settings: Settings,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(settings, write_twcs(tmp_path / "a.csv", GOOD))
    before = snapshot(settings)
    from carepulse.etl.transform import threads

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(threads, "rebuild", explode)
    with pytest.raises(RuntimeError):
        ingest(settings, write_twcs(tmp_path / "b.csv", [row(50, "c9", False, at("13:00"), "new")]))
    assert snapshot(settings) == before
    assert not list(settings.db.parent.glob(".*.loading*"))


@pytest.mark.parametrize("mode", ["full", "delta"])
def test_a_crash_after_a_slice_was_committed_publishes_nothing(tmp_path: Path, settings: Settings,
                                                               monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """A load folded in slices commits each slice into its private work file (``warehouse.settle``): a failure
    in a later slice must still leave the published warehouse, base and delta, as it was."""
    ingest(settings, write_twcs(tmp_path / "a.csv", GOOD))
    before = snapshot(settings)
    published = {p.name: p.read_bytes() for p in settings.db.parent.glob(f"{settings.db.name}*") if p.is_file()}
    from carepulse.etl.transform import threads

    slices: list[int] = []
    real = threads._rebuild_slice

    def second_fails(*args: object, **kwargs: object) -> None:
        slices.append(1)
        if len(slices) == 2:
            raise RuntimeError("power cut")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setenv("CAREPULSE_LOAD_MODE", mode)
    monkeypatch.setattr(threads, "SLICE_ROWS", 1)
    monkeypatch.setattr(threads, "_rebuild_slice", second_fails)
    batch = [row(60 + i, "c9", False, at(f"13:0{i}"), f"new {i}") for i in range(3)]
    with pytest.raises(RuntimeError):
        ingest(settings, write_twcs(tmp_path / "b.csv", batch))
    assert len(slices) == 2
    assert {p.name: p.read_bytes() for p in settings.db.parent.glob(f"{settings.db.name}*") if p.is_file()} == published
    assert snapshot(settings) == before
    assert not list(settings.db.parent.glob(".*.loading*"))
