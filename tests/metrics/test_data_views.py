"""The warehouse-as-data views (Data page, filter bar, thread view) on a hand-made warehouse.

Tweets (TWCS layout): customer a asks at 10:00 UTC and Brand answers at 10:05 (300 s); customer b
asks at 12:00 and waits; a fourth row has an unreadable date and is quarantined. CRM cases: C1
(twitter) names a's conversation, C3 (twitter) names b's handle 30 minutes after b's tweet, C2 is a
phone case, and C4 has the unknown channel 'fax' and is quarantined. Expected values by hand below.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_crm, ingest_tweets
from carepulse.metrics import data_views
from carepulse.metrics.context import Filters
from carepulse.warehouse import Reader, Warehouse

TWEETS = """tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id
1,cust_a,True,Tue Oct 31 10:00:00 +0000 2017,@Brand help,2,
2,Brand,False,Tue Oct 31 10:05:00 +0000 2017,@cust_a on it ^AB,,1
3,cust_b,True,Tue Oct 31 12:00:00 +0000 2017,@Brand hello?,,
4,cust_c,True,yesterday,@Brand =1+2,,
"""
CASES = """case_id,channel,opened_at,outcome,twitter_handle,conversation_id,team,category,csat
C1,twitter,2017-10-31T10:10:00Z,resolved,cust_a,1,Social Care,Billing,5
C2,phone,2017-10-31T11:00:00Z,resolved,,,Hotline,Billing,4
C3,twitter,2017-10-31T12:30:00Z,open,cust_b,,Social Care,Tech,
C4,fax,2017-10-31T12:30:00Z,open,,,,,
"""


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Reader, Settings]:
    folder = tmp_path_factory.mktemp("views")
    (folder / "tweets.csv").write_text(TWEETS, encoding="utf-8")
    (folder / "cases.csv").write_text(CASES, encoding="utf-8")
    path = folder / "wh.duckdb"
    settings = Settings(db=path)
    warehouse = Warehouse(path)
    ingest_tweets(warehouse, "twcs", [folder / "tweets.csv"], settings)
    ingest_crm(warehouse, [folder / "cases.csv"], None, settings)
    return warehouse.reader(), settings


def test_filter_options(db: tuple[Reader, Settings]) -> None:
    reader, settings = db
    options = data_views.filter_options(db=reader, settings=settings)
    assert options.accounts == ("Brand",)
    assert options.channels == ("phone", "twitter")
    assert options.teams == ("Hotline", "Social Care")
    assert options.categories == ("Billing", "Tech")
    assert (options.first_day, options.last_day) == (date(2017, 10, 31), date(2017, 10, 31))


def test_warehouse_summary(db: tuple[Reader, Settings]) -> None:
    reader, settings = db
    s = data_views.warehouse_summary(db=reader, settings=settings)
    assert (s["tweets"], s["threads"], s["answered_threads"], s["crm_cases"]) == (3, 2, 1, 3)
    assert (s["ingest_runs"], s["quarantined"], s["brand_accounts"]) == (2, 2, 1)
    assert s["first_tweet_at"] == datetime(2017, 10, 31, 11, 0)  # Berlin, CET after the October change
    assert s["as_of"] == datetime(2017, 10, 31, 13, 30)  # the latest record (C3 opened 12:30 UTC), local time


def test_ingest_runs_newest_first_and_accounted(db: tuple[Reader, Settings]) -> None:
    reader, settings = db
    runs = data_views.ingest_runs(db=reader, settings=settings)
    assert list(runs["source"]) == ["crm", "twcs"]
    assert list(runs["records_read"]) == [4, 4]
    assert list(runs["quarantined"]) == [1, 1]
    assert (runs["records_read"] == runs["loaded"] + runs["duplicate"] + runs["quarantined"]).all()


def test_quarantine_records_and_reason_kinds(db: tuple[Reader, Settings]) -> None:
    reader, settings = db
    records = data_views.quarantine(db=reader, settings=settings)
    assert len(records) == 2 and list(records["source"]) == ["crm", "twcs"]
    assert "=1+2" in records["raw"].iloc[1]  # kept as read
    reasons = data_views.quarantine_reasons(db=reader, settings=settings)
    assert reasons["records"].sum() == 2
    kinds = " | ".join(reasons["reason_kind"])
    assert "yesterday" not in kinds and "fax" not in kinds  # values blanked, the problem kept
    assert set(reasons["example"]) == set(records["reason"])
    one = data_views.quarantine(db=reader, settings=settings, run_id=int(records["run_id"].iloc[0]))
    assert len(one) == 1


def test_crm_link_coverage(db: tuple[Reader, Settings]) -> None:
    reader, settings = db
    # the data's as-of time is the latest record of any source (C3, opened 12:30 UTC), so C3 exists; as of
    # the latest tweet (12:00 UTC) it does not yet
    now = data_views.crm_link_coverage(db=reader, settings=settings).set_index("channel")
    assert now.loc["twitter", ["cases", "conversation", "handle_window"]].tolist() == [2, 1, 1]
    noon = datetime(2017, 10, 31, 12, 0, tzinfo=UTC)
    before = data_views.crm_link_coverage(db=reader, settings=settings, as_of=noon).set_index("channel")
    assert before.loc["twitter", ["cases", "conversation", "handle_window"]].tolist() == [1, 1, 0]
    later = datetime(2017, 10, 31, 13, 0, tzinfo=UTC)
    frame = data_views.crm_link_coverage(db=reader, settings=settings, as_of=later).set_index("channel")
    assert frame.loc["twitter", ["cases", "conversation", "handle_window", "none"]].tolist() == [2, 1, 1, 0]
    assert frame.loc["twitter", "linked_share"] == 1.0
    assert frame.loc["phone", ["cases", "none", "linked_share"]].tolist() == [1, 1, 0.0]
    social = data_views.crm_link_coverage(Filters(team="Social Care"), db=reader, settings=settings, as_of=later)
    assert list(social["channel"]) == ["twitter"]
    nothing = data_views.crm_link_coverage(Filters(date_from=date(2018, 1, 1)), db=reader, settings=settings)
    assert nothing.empty


def test_thread_detail_and_cases(db: tuple[Reader, Settings]) -> None:
    reader, settings = db
    detail = data_views.thread_detail("1-cust_a", db=reader, settings=settings)
    assert detail is not None
    assert (detail["account"], detail["status"], detail["first_response_seconds"]) == ("Brand", "answered", 300.0)
    assert detail["started_at"] == datetime(2017, 10, 31, 11, 0)
    waiting = data_views.thread_detail("3-cust_b", db=reader, settings=settings)
    assert waiting is not None and waiting["status"] == "unanswered" and waiting["first_response_at"] is None
    cases = data_views.thread_cases("1-cust_a", db=reader, settings=settings)
    assert list(cases["case_id"]) == ["C1"] and list(cases["link_method"]) == ["conversation"]
    assert list(data_views.thread_cases("3-cust_b", db=reader, settings=settings)["link_method"]) == ["handle_window"]
    assert data_views.thread_detail("9-nobody", db=reader, settings=settings) is None


def test_an_empty_warehouse(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    with Warehouse(path).writer():
        pass
    reader, settings = Warehouse(path).reader(), Settings(db=path)
    options = data_views.filter_options(db=reader, settings=settings)
    assert options.accounts == () and options.channels == () and options.first_day is None
    assert data_views.warehouse_summary(db=reader, settings=settings)["tweets"] == 0
    assert data_views.ingest_runs(db=reader, settings=settings).empty
    assert data_views.crm_link_coverage(db=reader, settings=settings).empty
