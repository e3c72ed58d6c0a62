"""Definitions at their edges (issue 12), each a reproduction that failed before its fix."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from carepulse.config import Settings
from metrics import engine
from tests.metrics.fixtures import TH, insert_cases, load_twcs
from tests.twcs_helpers import at, row
from warehouse import Warehouse


def test_a_reply_stamped_before_its_tweet_is_ignored(tmp_path: Path) -> None:
    """c1 tweets at 09:00; a brand reply to it is stamped 08:58 (clock skew), a second one 09:10.
    c2 tweets at 10:00 and its only reply is stamped 09:58. Reply times: c1 600 s (the skewed reply is
    ignored, the next one counts), c2 none -> median 600, n 1; never -120."""
    warehouse = load_twcs(tmp_path, [
        row(1, "c1", False, at("09:00"), f"@{TH} kein Netz"),
        row(2, TH, True, at("08:58"), "@c1 Wir schauen nach. ^AB", 1),
        row(3, TH, True, at("09:10"), "@c1 Jetzt sollte es gehen. ^AB", 1),
        row(4, "c2", False, at("10:00"), f"@{TH} Rechnung falsch"),
        row(5, TH, True, at("09:58"), "@c2 Schreib uns eine DM. ^AB", 4),
    ])
    result = engine.compute(["reply_time_median_s", "answered_threads", "threads"], db=warehouse.reader(),
                            settings=Settings(db=tmp_path / "wh.duckdb"), ci=True)
    assert result.total["reply_time_median_s"].value == 600.0
    assert result.total["reply_time_median_s"].n == 1
    assert (result.total["answered_threads"].value, result.total["threads"].value) == (1, 2)


def test_recontacts_between_cases_without_a_thread_count(tmp_path: Path) -> None:
    """Two phone cases of customer K1: A resolved on 1 Oct, B opened on 3 Oct. Neither has a thread.
    A's customer is back within 7 days -> recontact 1 / 1; first-contact resolution: A was resolved but
    recontacted, B is unresolved -> 0 / 2."""
    settings = Settings(db=tmp_path / "wh.duckdb", min_sample=1)
    warehouse = Warehouse(settings.db)
    insert_cases(warehouse, [
        {"case_id": "A", "channel": "phone", "opened_at": datetime(2026, 10, 1, 9, tzinfo=UTC),
         "closed_at": datetime(2026, 10, 1, 10, tzinfo=UTC), "outcome": "resolved", "customer_ref": "K1"},
        {"case_id": "B", "channel": "phone", "opened_at": datetime(2026, 10, 3, 9, tzinfo=UTC),
         "closed_at": datetime(2026, 10, 3, 10, tzinfo=UTC), "outcome": "unresolved", "customer_ref": "K1"},
    ])
    result = engine.compute(["recontact_7d_rate", "fcr_rate"], db=warehouse.reader(), settings=settings)
    assert result.total["recontact_7d_rate"].value == 1.0
    assert result.total["fcr_rate"].value == 0.0


def test_crm_cases_after_the_latest_tweet_count(tmp_path: Path) -> None:
    """The tweets end on 31 Oct 2017 (fixture rows at 09:00-09:10); a phone case is opened two weeks later.
    The default as-of is the latest record of any source, so the case counts: cases 1."""
    warehouse = load_twcs(tmp_path, [
        row(1, "c1", False, at("09:00"), f"@{TH} kein Netz"),
        row(2, TH, True, at("09:10"), "@c1 Wir schauen nach. ^AB", 1),
    ])
    insert_cases(warehouse, [{"case_id": "P", "channel": "phone", "opened_at": datetime(2017, 11, 14, 9, tzinfo=UTC),
                              "outcome": "resolved", "customer_ref": "K9"}])
    result = engine.compute(["cases", "threads"], db=warehouse.reader(), settings=Settings(db=tmp_path / "wh.duckdb"))
    assert result.total["cases"].value == 1
    assert result.as_of == datetime(2017, 11, 14, 9, tzinfo=UTC)
