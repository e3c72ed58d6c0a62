"""Drill-down views on fixture A (time line in tests/metrics/fixtures.py): lists add up to the
numbers they are opened from."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from carepulse.core.config import Settings
from carepulse.core.errors import ConfigError
from carepulse.metrics import engine, views
from carepulse.metrics.context import Filters
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import FIXTURE_A, TH, load_twcs
from tests.twcs_helpers import at, row


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Settings]:
    path = tmp_path_factory.mktemp("views")
    settings = Settings(db=path / "wh.duckdb")
    return load_twcs(path, FIXTURE_A, settings), settings


def test_threads_list_adds_up(wh: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = wh
    reader = warehouse.reader()
    every = views.threads(db=reader, settings=settings, limit=None)
    assert len(every) == 7
    assert (every["status"] == "unanswered").sum() == 2
    th = views.threads(db=reader, settings=settings, group=("account", TH), limit=None)
    assert sorted(th["thread_id"]) == ["1-c1", "10-c4", "14-c7", "4-c2"]
    kmg = views.threads(db=reader, settings=settings, group=("agent", "KMG"), limit=None)
    assert kmg["thread_id"].tolist() == ["14-c7"] and kmg["first_response_seconds"].tolist() == [39600]
    slowest = views.threads(db=reader, settings=settings, status="answered", order="first_response_seconds",
                             limit=2)
    assert slowest["thread_id"].tolist() == ["14-c7", "4-c2"]
    assert slowest["sla_met"].tolist() == [False, False]
    # local time: 09:00 UTC is 10:00 in Berlin on 31 Oct 2017
    first = every.set_index("thread_id").loc["1-c1"]
    assert str(first["started_at"]) == "2017-10-31 10:00:00"


def test_thread_tweets_show_roles_and_waits(wh: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = wh
    conv = views.thread_tweets("1-c1", db=warehouse.reader(), settings=settings)
    assert conv["tweet_id"].tolist() == [1, 2, 3]
    assert conv["role"].tolist() == ["customer", "brand", "customer"]
    assert math.isnan(conv["wait_seconds"][0]) and conv["wait_seconds"].tolist()[1:] == [600, 1200]
    assert conv["is_first_response"].tolist() == [False, True, False]
    other = views.thread_tweets("11-c5", db=warehouse.reader(), settings=settings)
    assert other["role"].tolist() == ["customer", "other customer", "brand"]


def test_waiting_queue_longest_first(wh: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = wh
    queue = views.waiting_queue(db=warehouse.reader(), settings=settings)
    assert queue["thread_id"].tolist() == ["10-c4", "11-c5"]
    assert queue["waiting_seconds"].tolist() == [68400, 64800]
    assert queue["sla_breached"].all()
    assert queue["negative"].tolist()[0]  # "Hotline ist nicht erreichbar, unverschämt!"
    assert queue.attrs == {"waiting": 2, "breached": 2, "older": 0, "max_age_days": 14.0}


# Three unanswered threads that started 30, 10 and 1 day(s) before the as-of time (the brand's reply
# on day 30 at 10:00, the latest tweet), and one answered thread.
AGED_QUEUE = [
    row(1, "c1", False, at("10:00"), f"@{TH} Seit Mai kein Anschluss"),
    row(2, "c2", False, at("10:00", day=20), f"@{TH} Rechnung doppelt abgebucht"),
    row(3, "c3", False, at("10:00", day=29), f"@{TH} Router blinkt rot"),
    row(4, "c4", False, at("09:00", day=30), f"@{TH} Kein Netz in Kiel"),
    row(5, TH, True, at("10:00", day=30), "@c4 Wir schauen nach. ^AB", 4),
]


def test_waiting_queue_lists_only_threads_that_can_still_be_answered(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb")
    reader = load_twcs(tmp_path, AGED_QUEUE, settings).reader()
    assert settings.queue_max_age_days == 14
    queue = views.waiting_queue(db=reader, settings=settings)
    assert queue["thread_id"].tolist() == ["2-c2", "3-c3"]  # -10 d and -1 d, longest waiting first
    assert queue["waiting_seconds"].tolist() == [10 * 86400, 86400]
    assert queue["first_text"].tolist() == [f"@{TH} Rechnung doppelt abgebucht", f"@{TH} Router blinkt rot"]
    assert queue.attrs == {"waiting": 2, "breached": 2, "older": 1, "max_age_days": 14.0}
    wider = views.waiting_queue(db=reader, settings=settings, max_age_days=31)
    assert wider["thread_id"].tolist() == ["1-c1", "2-c2", "3-c3"] and wider.attrs["older"] == 0
    narrower = views.waiting_queue(db=reader, settings=Settings(db=settings.db, queue_max_age_days=0.5))
    assert narrower.empty and narrower.attrs["waiting"] == 0 and narrower.attrs["older"] == 3
    # The queue is a view: every unanswered thread still counts in the metrics and is listed.
    total = engine.headline(["threads", "response_rate"], db=reader, settings=settings)["total"]
    assert total["threads"] == 4 and total["response_rate"] == 0.25
    unanswered = views.threads(db=reader, settings=settings, status="unanswered", limit=None)
    assert sorted(unanswered["thread_id"]) == ["1-c1", "2-c2", "3-c3"]


def test_histogram_sla_days_and_heatmap(wh: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = wh
    reader = warehouse.reader()
    hist = views.first_response_histogram(db=reader, settings=settings).set_index("bin")["threads"]
    # 600 -> 5-15 min; 900 and 1800 are the lower edges of 15-30 and 30-60 min; 7200 -> 2-4 h; 39600 -> 8-24 h
    assert hist.to_dict() == {"< 5 min": 0, "5-15 min": 1, "15-30 min": 1, "30-60 min": 1, "1-2 h": 0,
                              "2-4 h": 1, "4-8 h": 0, "8-24 h": 1, "1-3 days": 0, "> 3 days": 0, "unanswered": 2}
    days = views.sla_breaches_by_day(db=reader, settings=settings)
    assert days.to_dict("records") == [{"day": "2017-10-31", "threads": 7, "met": 3, "breached": 4,
                                        "undecided": 0, "sla_met_share": 3 / 7}]
    heat = views.arrivals_heatmap(db=reader, settings=settings)
    assert set(heat["weekday"]) == {"Tue"}
    by_hour = heat.set_index("hour")
    assert by_hour["threads"].to_dict() == {10: 1, 11: 1, 12: 1, 14: 1, 15: 2, 22: 1}
    assert by_hour.loc[15, "first_response_median_s"] == 900  # c5 unanswered, c6 900


def test_agent_table_and_filters(wh: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = wh
    table = engine.agent_table(db=warehouse.reader(), settings=settings).set_index("agent")
    assert table.loc["SR", "brand_tweets"] == 2 and table.loc["KMG", "sla_met_share"] == 0
    only_ac = engine.query(["threads", "answered_threads"], filters=Filters(account="acmecare"),
                           db=warehouse.reader(), settings=settings)
    assert only_ac.to_dict("records") == [{"threads": 3, "answered_threads": 2}]
    by_account = engine.query(["threads"], by="account", db=warehouse.reader(), settings=settings, ci=True,
                              include_total=True)
    assert by_account["account"].tolist() == ["AcmeCare", TH, "(total)"]


def test_weekly_series_needs_complete_weeks(wh: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = wh
    series = views.weekly_series(db=warehouse.reader(), settings=settings)
    assert series.empty
    assert series.attrs["forecast_verdict"] == "not enough data (weeks = 0, minimum 8)"


def test_headline_dict_is_json_ready(wh: tuple[Warehouse, Settings], tmp_path: Path) -> None:
    import json

    warehouse, settings = wh
    out = engine.headline(["threads", "first_response_km_median_s", "resolution_rate"], by="account",
                          db=warehouse.reader(), settings=settings)
    text = json.dumps(out)  # no inf / NaN sneaks through
    assert "Infinity" not in text and "NaN" not in text
    assert out["total"]["first_response_km_median_s_ci_high"] is None  # open upper limit
    assert out["groups"][TH]["threads"] == 4


def test_agent_speed_in_business_hours_with_n_and_without_the_none_row(wh: tuple[Warehouse, Settings]) -> None:
    """KMG answered c7's tweet of 22:00 Berlin (desk closed) at 09:00 next morning: 11 h in calendar time,
    1 h of open desk (08:00-09:00). The agent view counts business hours by default, shows n per agent and
    leaves out the "(none)" group (c4 and c5, never answered), counting it in ``attrs`` instead."""
    warehouse, settings = wh
    reader = warehouse.reader()
    business = views.agent_speed(db=reader, settings=settings).set_index("agent")
    assert business.loc["KMG", "first_response_median_s"] == 3600 and business.loc["KMG", "n"] == 1
    assert "(none)" not in business.index and sorted(business.index) == ["AB", "Becky", "KMG", "SR", "ab"]
    assert business.attrs == {"clock": "business", "unattributed_threads": 2, "unattributed_answered": 0}
    calendar = views.agent_speed(db=reader, settings=settings, clock="calendar").set_index("agent")
    assert calendar.loc["KMG", "first_response_median_s"] == 39600
    assert calendar.loc["Becky", "sla_met_share"] == 0 and calendar.loc["SR", "sla_met_n"] == 1
    # breaches as counts, not only shares: KMG's 11 h reply breaches the 60-min SLA in calendar time, not in
    # business hours (exactly 60 min of open desk: met); Becky met none of hers
    assert calendar.loc["KMG", "sla_breached"] == 1 and business.loc["KMG", "sla_breached"] == 0
    assert calendar.loc["Becky", "sla_breached"] == calendar.loc["Becky", "sla_met_n"] > 0
    for frame in (business, calendar):
        expected = (frame["sla_met_n"] * (1 - frame["sla_met_share"])).round().astype(int)
        assert frame["sla_breached"].astype(int).tolist() == expected.tolist()
    with pytest.raises(ConfigError):
        views.agent_speed(db=reader, settings=settings, clock="wall")  # type: ignore[arg-type]
