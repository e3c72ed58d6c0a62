"""Definitions at their edges (issue 12), each a reproduction that failed before its fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_tweets
from carepulse.metrics import engine, views
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import TH, ThreadRow, insert_cases, insert_threads, load_twcs
from tests.twcs_helpers import at, row


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


# ---- zero-filled weeks ---------------------------------------------------------------------------

BURST_MONDAY = datetime(2017, 1, 2, 9, 0, tzinfo=UTC)  # 10:00 Berlin (winter time)


def _burst(first_week: int, weeks: int, per_week: int = 5) -> list[ThreadRow]:
    """``per_week`` threads on each Monday of ``weeks`` weeks from ``first_week`` (weeks after 2 Jan 2017),
    each answered after 10 minutes."""
    return [ThreadRow(f"w{w}-{k}", TH, BURST_MONDAY + timedelta(weeks=w, hours=k),
                      BURST_MONDAY + timedelta(weeks=w, hours=k, minutes=10))
            for w in range(first_week, first_week + weeks) for k in range(per_week)]


def _weekly(tmp_path: Path, rows: list[ThreadRow], as_of: datetime) -> tuple[Any, Any, Any]:
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    insert_threads(warehouse, rows)
    result = engine.compute(["threads_forecast_4w", "first_response_trend_s_per_week"], db=warehouse.reader(),
                            settings=settings, as_of=as_of)
    series = views.weekly_series(db=warehouse.reader(), settings=settings, as_of=as_of)
    return result.total["threads_forecast_4w"], result.total["first_response_trend_s_per_week"], series


def test_weeks_before_a_long_gap_are_not_history(tmp_path: Path) -> None:
    """10 weeks of data, 20 empty weeks, 9 weeks of data; as-of the Monday after. The 20 empty weeks are a
    gap in collection, not zero demand: the forecast, the trend and the weekly chart all stand on the last
    9 weeks ("from 9 weeks of history"), not on 39 zero-filled ones."""
    as_of = BURST_MONDAY + timedelta(weeks=39)
    forecast, trend, series = _weekly(tmp_path, _burst(0, 10) + _burst(30, 9), as_of)
    assert forecast.n == 9 and forecast.note.endswith("from 9 weeks of history.")
    assert trend.n == 9
    actual = series[series["kind"] == "actual"]
    assert len(actual) == 9 and actual["threads"].tolist() == [5.0] * 9
    assert str(actual["week"].iloc[0]) == "2017-07-31 00:00:00"


def test_a_gap_shorter_than_four_weeks_is_quiet_weeks(tmp_path: Path) -> None:
    """Five weeks, three empty weeks, four weeks: a quiet stretch shorter than GAP_WEEKS (4) stays in the
    history as zeros, so a sparse slice keeps its history (12 weeks)."""
    as_of = BURST_MONDAY + timedelta(weeks=12)
    forecast, trend, series = _weekly(tmp_path, _burst(0, 5) + _burst(8, 4), as_of)
    assert forecast.n == 12 and forecast.note.endswith("from 12 weeks of history.")
    assert trend.n == 9  # the trend of the median first response skips the weeks without an answer
    assert series[series["kind"] == "actual"]["threads"].tolist() == [5.0] * 5 + [0.0] * 3 + [5.0] * 4


def test_twcs_sample_forecast_ignores_its_2011_and_2016_stragglers(shared_sample: Path, tmp_path: Path) -> None:
    """The public sample has stray tweets from Aug 2011 and Aug 2016 before its Oct-Nov 2017 bulk. Zero-filled,
    that was "from 326 weeks of history"; the history is the weeks after the last long gap."""
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    ingest_tweets(warehouse, "twcs", [shared_sample], settings)
    result = engine.compute(["threads_forecast_4w", "first_response_trend_s_per_week"], db=warehouse.reader(),
                            settings=settings)
    forecast, trend = result.total["threads_forecast_4w"], result.total["first_response_trend_s_per_week"]
    # 9 Oct 2017 is dropped as a half week (the data resumes on Thursday 12 Oct); 13 Nov has no thread (a quiet
    # week inside the history, kept as zero); the trend's 4 weeks are those with an answered thread.
    assert forecast.note == "not enough data (weeks = 6, minimum 8)"
    assert trend.note == "not enough data (weeks = 4, minimum 8)"
    series = views.weekly_series(db=warehouse.reader(), settings=settings)
    actual = series[series["kind"] == "actual"]
    assert str(actual["week"].iloc[0]) == "2017-10-16 00:00:00" and len(actual) == 6


# ---- thanks that are not thanks ------------------------------------------------------------------

def test_thanks_for_nothing_is_not_counted_in_thanks_rate(tmp_path: Path) -> None:
    """Two answered threads; c1 ends with "Danke für nichts", c2 with "Danke, klappt jetzt!". Only c2 thanks:
    thanks_rate 1 / 2, not 2 / 2."""
    warehouse = load_twcs(tmp_path, [
        row(1, "c1", False, at("09:00"), f"@{TH} kein Netz"),
        row(2, TH, True, at("09:10"), "@c1 Starte bitte den Router neu. ^AB", 1),
        row(3, "c1", False, at("09:30"), f"@{TH} Danke für nichts", 2),
        row(4, "c2", False, at("10:00"), f"@{TH} Rechnung falsch"),
        row(5, TH, True, at("10:10"), "@c2 Ist korrigiert. ^AB", 4),
        row(6, "c2", False, at("10:30"), f"@{TH} Danke, klappt jetzt!", 5),
    ])
    result = engine.compute(["thanks_rate"], db=warehouse.reader(), settings=Settings(db=tmp_path / "wh.duckdb"))
    assert result.total["thanks_rate"].value == 0.5
