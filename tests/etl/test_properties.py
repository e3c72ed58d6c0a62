"""Property tests: every generated record is accounted for; incremental loads equal one load."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_tweets
from carepulse.warehouse import Warehouse
from tests.twcs_helpers import at, row, twitter_time, write_twcs

KINDS = ("good", "good", "good", "bad_id", "bad_date", "bad_inbound", "repeat", "conflict")


@st.composite
def files_of_records(draw: st.DrawFn) -> tuple[list[list[str]], dict[str, int]]:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=40))
    rows: list[list[str]] = []
    good: list[list[str]] = []
    expected = {"loaded": 0, "duplicate": 0, "quarantined": 0}
    for i, kind in enumerate(kinds, start=1):
        if kind in ("repeat", "conflict") and not good:
            kind = "good"
        if kind == "good":
            parent = draw(st.sampled_from([None, 999_999] + [int(g[0]) for g in good]))
            brand = draw(st.booleans())
            r = row(i, "acme" if brand else f"c{i % 5}", brand, at(f"{i % 24:02d}:{i % 60:02d}"), f"text {i}", parent)
            good.append(r)
            expected["loaded"] += 1
        elif kind == "repeat":
            r = list(draw(st.sampled_from(good)))
            expected["duplicate"] += 1
        elif kind == "conflict":
            r = list(draw(st.sampled_from(good)))
            r[4] = r[4] + " (edited)"
            expected["quarantined"] += 1
        elif kind == "bad_id":
            r = [f"id{i}", "c1", "True", twitter_time(at("10:00")), "x", "", ""]
            expected["quarantined"] += 1
        elif kind == "bad_date":
            r = [str(i), "c1", "True", "not a date", "x", "", ""]
            expected["quarantined"] += 1
        else:
            r = [str(i), "c1", "perhaps", twitter_time(at("10:00")), "x", "", ""]
            expected["quarantined"] += 1
        rows.append(r)
    return rows, expected


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files_of_records())
def test_every_record_is_loaded_a_duplicate_or_quarantined(case: tuple[list[list[str]], dict[str, int]]) -> None:
    rows, expected = case
    with tempfile.TemporaryDirectory() as tmp:
        s = Settings(db=Path(tmp) / "w.duckdb")
        report = ingest_tweets(Warehouse(s.db), "twcs", [write_twcs(Path(tmp) / "f.csv", rows)], s)
        f = report.files[0]
        assert f.records_read == len(rows)
        assert (f.loaded, f.duplicate, f.quarantined) == (expected["loaded"], expected["duplicate"],
                                                          expected["quarantined"])
        con = Warehouse(s.db).reader().connection()
        assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (f.quarantined,)
        again = ingest_tweets(Warehouse(s.db), "twcs", [Path(tmp) / "f.csv"], s).files[0]
        assert again.loaded == 0 and again.records_read == len(rows)
        assert again.duplicate + again.quarantined == len(rows)


@st.composite
def forests(draw: st.DrawFn) -> list[list[str]]:
    n = draw(st.integers(min_value=1, max_value=30))
    rows = []
    for i in range(1, n + 1):
        parent = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=n + 3)))
        if parent == i:
            parent = None
        brand = draw(st.booleans())
        author = draw(st.sampled_from(["acme", "bolt"])) if brand else f"c{draw(st.integers(1, 4))}"
        minute = draw(st.integers(0, 600))
        rows.append(row(i, author, brand, at(f"{minute // 60:02d}:{minute % 60:02d}"), f"@acme t{i}", parent))
    return rows


def _threads(db: Path) -> list[tuple]:
    con = Warehouse(db).reader().connection()
    threads = con.execute("SELECT * EXCLUDE (customer_followers) FROM threads ORDER BY thread_id").fetchall()
    tweets = con.execute(
        "SELECT tweet_id, parent_id, conversation_id, is_brand, first_reply_at, first_reply_id, first_reply_by "
        "FROM tweets ORDER BY tweet_id"
    ).fetchall()
    return [*threads, *tweets]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forests(), st.randoms(use_true_random=False), st.integers(min_value=2, max_value=4))
def test_loading_in_random_batches_equals_loading_at_once(rows: list[list[str]], rnd, batches: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        once = Settings(db=base / "once.duckdb")
        ingest_tweets(Warehouse(once.db), "twcs", [write_twcs(base / "all.csv", rows)], once)
        shuffled = list(rows)
        rnd.shuffle(shuffled)
        inc = Settings(db=base / "inc.duckdb")
        for b in range(batches):
            part = shuffled[b::batches]
            ingest_tweets(Warehouse(inc.db), "twcs", [write_twcs(base / f"p{b}.csv", part)], inc)
        assert _threads(inc.db) == _threads(once.db)
