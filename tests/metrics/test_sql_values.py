"""User values are data, never template: filter values, drill-down groups and stored names that look like
SQL templates (``{{as_of}}``, ``{{nope}}``, ``{{sig(1)}}``), quotes, unicode and LIKE wildcards reach the
SQL as literals, and settings that go into SQL are quoted or refused cleanly.

Before the fix a filter value was escaped into the statement and the whole statement was then filled,
so ``{{as_of}}`` became a timestamp inside a string (a syntax error), ``{{nope}}`` a KeyError and
``{{sig(1)}}`` a subquery: HTTP 500 on every data callback and export of such a selection.

The warehouse: for each odd value ``v`` (index i, tweet ids 3i+1 .. 3i+3, hour 9+i of 31 Oct 2017 UTC)

* thread ``A`` = ``{3i+1}-cust {v}``: customer ``cust {v}`` asks, brand ``v`` (the account) answers after
  10 minutes (tweet 3i+2, unsigned);
* thread ``U`` = ``{3i+3}-wait {v}``: customer ``wait {v}`` asks and waits (no account: nobody answered);
* CRM case ``a{i}`` (twitter, resolved) linked to A, case ``u{i}`` (twitter, open) linked to U, and case
  ``p{i}`` of the channel ``v`` (resolved, linked to nothing); all three name ``v`` as agent, team and
  category.

So a filter on ``v`` selects, per dimension (threads / answered / cases / tweets):
account 1 / 1 / 1 (a) / 2 (the brand's reply and A's tweet); team and category 2 / 1 / 3 / 2 (A's and
U's tweets; a brand tweet has no thread, hence no team); channel 0 / 0 / 1 (p) / 0 (threads and tweets
are channel 'twitter'). Fourteen threads in all, so "everything" is never the right answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from carepulse.core.config import BusinessHours, Settings
from carepulse.core.errors import ConfigError
from carepulse.metrics import data_views, engine, views
from carepulse.metrics.context import Filters, open_context
from carepulse.metrics.sql import km_sql, relation
from carepulse.metrics.survival import km_rows
from carepulse.warehouse import Reader
from tests.metrics.fixtures import insert_cases, load_twcs
from tests.twcs_helpers import at, row

VALUES = ("{{as_of}}", "{{nope}}", "{{sig(1)}}", "O'Brien '' --", "Ünïcødé ✓ 日本", "%_\\", "$tz ? {{$team}}")
FILTER_DIMS = ("account", "team", "category", "channel")
# threads, answered threads, cases, tweets a filter on one value selects (see the module docstring)
EXPECTED: dict[str, tuple[int, int, int, int]] = {
    "account": (1, 1, 1, 2), "team": (2, 1, 3, 2), "category": (2, 1, 3, 2), "channel": (0, 0, 1, 0),
}
# Every relation flavour: thread joins (case, business hours, DM), replies, cases with recontacts, costs.
METRICS = ["threads", "answered_threads", "cases", "tweets", "response_rate", "first_response_median_s",
           "first_response_km_median_s", "first_response_bh_median_s", "dm_handoff_rate", "crm_link_coverage",
           "reply_time_median_s", "recontact_7d_rate", "csat_mean", "cost_per_case"]
Db = tuple[Reader, Settings]


def thread_a(i: int) -> str:
    return f"{3 * i + 1}-cust {VALUES[i]}"


def thread_u(i: int) -> str:
    return f"{3 * i + 3}-wait {VALUES[i]}"


def only(dim: str, value: str) -> Filters:
    """The global filters with one dimension set, as the filter bar or a URL sets it."""
    given: dict[str, Any] = {dim: value}
    return Filters(**given)


def opened(i: int, minutes: int) -> datetime:
    return at(f"{9 + i:02d}:00") + timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Db:
    path: Path = tmp_path_factory.mktemp("sql_values")
    settings = Settings(db=path / "wh.duckdb", min_sample=1)
    rows: list[list[str]] = []
    cases: list[dict[str, Any]] = []
    for i, v in enumerate(VALUES):
        hour = f"{9 + i:02d}"
        rows += [row(3 * i + 1, f"cust {v}", False, at(f"{hour}:00"), f"@{v} help"),
                 row(3 * i + 2, v, True, at(f"{hour}:10"), "@cust on it", 3 * i + 1),
                 row(3 * i + 3, f"wait {v}", False, at(f"{hour}:20"), f"@{v} hello?")]
        names = {"agent": v, "team": v, "category": v, "handled_minutes": 10.0}
        cases += [
            {"case_id": f"a{i}", "channel": "twitter", "opened_at": opened(i, 15), "outcome": "resolved",
             "customer_ref": f"ra{i}", "csat": 5, "link_method": "conversation", "linked_thread_id": thread_a(i),
             **names},
            {"case_id": f"u{i}", "channel": "twitter", "opened_at": opened(i, 25), "outcome": "open",
             "customer_ref": f"ru{i}", "link_method": "conversation", "linked_thread_id": thread_u(i), **names},
            {"case_id": f"p{i}", "channel": v, "opened_at": opened(i, 30), "outcome": "resolved",
             "customer_ref": f"rp{i}", "csat": 3, **names},
        ]
    warehouse = load_twcs(path, rows, settings)
    insert_cases(warehouse, cases)
    reader = warehouse.reader()
    # the premise: the loader and the filter bar's options keep every value exactly as given
    options = data_views.filter_options(db=reader, settings=settings)
    assert set(options.accounts) == set(VALUES) and set(options.teams) == set(options.categories) == set(VALUES)
    assert set(options.channels) == {"twitter", *VALUES}
    return reader, settings


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("dim", FILTER_DIMS)
def test_filter_selects_exactly_the_matching_rows(db: Db, dim: str, value: str) -> None:
    """Every statement builder (threads with their joins, tweets, replies, cases, KM, costs) takes the
    value as a bound parameter: the counts are the value's, neither an error nor the whole warehouse."""
    reader, settings = db
    threads, answered, cases, tweets = EXPECTED[dim]
    filters = only(dim, value)
    total = engine.headline(METRICS, filters=filters, db=reader, settings=settings)["total"]
    assert (total["threads"], total["answered_threads"], total["cases"], total["tweets"]) == (
        threads, answered, cases, tweets)
    assert total["first_response_median_s"] == (600 if answered else None)
    # the estimator in pure SQL (--explain, and the engine's fallback) reads the same relation
    ctx = open_context(reader, settings, filters)
    try:
        metric = next(m for m in engine.list_metrics() if m.name == "first_response_km_median_s")
        rel = relation(ctx, "threads", metric.joins)
        sql_rows = ctx.con.execute(*km_sql(rel, metric)).fetchall()
        fast = km_rows(ctx.con, rel, metric)
    finally:
        ctx.con.close()
    assert [r[4] for r in sql_rows] == ([threads] if threads else [])
    assert fast is not None and [r[4] for r in fast] == [r[4] for r in sql_rows]


# Groups of a breakdown under the filter category = v: (threads, cases) per group name.
def breakdown_under_filter(by: str, v: str) -> dict[str, tuple[int, int]]:
    if by == "account":  # U and its case u have no account; p is linked to no thread
        return {v: (1, 1), "(unassigned)": (1, 2)}
    if by == "channel":  # threads are channel 'twitter'; the case p is of the channel v
        return {"twitter": (2, 2), v: (0, 1)}
    return {v: (2, 3)}


@pytest.mark.parametrize("by", ["account", "agent", "team", "category", "channel"])
def test_breakdown_names_each_group_as_stored(db: Db, by: str) -> None:
    """``by=`` a dimension names each group exactly as stored, with its counts, also under a filter whose
    value looks like a template (the Explore page's table and its export)."""
    reader, settings = db
    metrics = ["threads", "answered_threads", "cases", "first_response_km_median_s", "cost_per_case"]
    frame = engine.query(metrics, by=by, db=reader, settings=settings).set_index(by)
    expected = {"account": (1, 1), "agent": (2, 3), "team": (2, 3), "category": (2, 3), "channel": (0, 1)}[by]
    for v in VALUES:
        assert (frame.loc[v, "threads"], frame.loc[v, "cases"]) == expected, (by, v, list(frame.index))
    if by == "channel":
        assert frame.loc["twitter", "threads"] == 2 * len(VALUES)
    for v in VALUES:
        part = engine.query(metrics, by=by, filters=Filters(category=v), db=reader, settings=settings)
        got = {str(r[by]): (int(r["threads"]), int(r["cases"])) for r in part.to_dict("records")}
        assert got == breakdown_under_filter(by, v), (by, v)


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("dim", ["account", "agent", "team", "category", "channel"])
def test_drill_down_to_a_group_lists_its_threads(db: Db, dim: str, value: str) -> None:
    """``views.threads(group=...)``: the drill-down and the Explore page's thread export."""
    reader, settings = db
    i = VALUES.index(value)
    listed = views.threads(db=reader, settings=settings, group=(dim, value), limit=None)
    expected = {"account": [thread_a(i)], "agent": [thread_a(i), thread_u(i)], "team": [thread_a(i), thread_u(i)],
                "category": [thread_a(i), thread_u(i)], "channel": []}[dim]
    assert sorted(listed["thread_id"]) == sorted(expected)
    if dim != "channel":
        assert set(listed["agent"]) == {value}
    # opening a listed thread: its header, CRM cases and conversation, the thread id a value too
    detail = data_views.thread_detail(thread_a(i), db=reader, settings=settings)
    assert detail is not None and detail["account"] == value and detail["customer_handle"] == f"cust {value}"
    assert data_views.thread_cases(thread_a(i), db=reader, settings=settings)["case_id"].tolist() == [f"a{i}"]
    assert views.thread_tweets(thread_a(i), db=reader, settings=settings)["tweet_id"].tolist() == [3 * i + 1,
                                                                                                   3 * i + 2]
    assert data_views.thread_detail(value, db=reader, settings=settings) is None
    assert views.thread_tweets(value, db=reader, settings=settings).empty


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("dim", FILTER_DIMS)
def test_views_and_exports_under_a_filter(db: Db, dim: str, value: str) -> None:
    """Every drill-down, thread list and export data function that takes filters returns the value's rows.

    (A one-thread Kaplan-Meier curve makes statsmodels divide by zero in its band: warnings, no error.)"""
    reader, settings = db
    i = VALUES.index(value)
    threads, _, cases, _ = EXPECTED[dim]
    filters = only(dim, value)
    kw: dict[str, Any] = {"db": reader, "settings": settings}
    mine = {"account": [thread_a(i)], "team": [thread_a(i), thread_u(i)], "category": [thread_a(i), thread_u(i)],
            "channel": []}[dim]
    assert sorted(views.threads(filters, limit=None, **kw)["thread_id"]) == sorted(mine)
    waiting = [t for t in mine if t == thread_u(i)]
    assert views.waiting_queue(filters, **kw)["thread_id"].tolist() == waiting
    assert views.first_response_histogram(filters, **kw)["threads"].sum() == threads
    assert views.km_curve(filters, **kw).attrs["n"] == threads
    assert views.sla_breaches_by_day(filters, **kw)["threads"].sum() == threads
    assert views.arrivals_heatmap(filters, **kw)["threads"].sum() == threads
    assert views.weekly_series(filters, **kw).empty  # one day of data: no complete week, and no error
    assert views.agent_speed(filters, clock="calendar", **kw)["agent"].tolist() == ([value] if threads else [])
    assert data_views.crm_link_coverage(filters, **kw)["cases"].sum() == cases


def test_signature_patterns_are_literals(tmp_path: Path) -> None:
    """A signature pattern goes into SQL quoted and is not filled again: braces and quotes are its own."""
    settings = Settings(db=tmp_path / "wh.duckdb", agent_signature_patterns=(r"~'?(\w+)'? {{as_of}}$",))
    reader = load_twcs(tmp_path, [
        row(1, "c1", False, at("09:00"), "@Brand help"),
        row(2, "Brand", True, at("09:05"), "@c1 on it ~'AB' {{as_of}}", 1),
    ], settings).reader()
    frame = engine.query(["brand_tweets", "answered_threads"], by="agent", db=reader, settings=settings)
    ab = frame[frame["agent"] == "AB"]
    assert ab["brand_tweets"].tolist() == [1] and ab["answered_threads"].tolist() == [1]
    assert views.threads(db=reader, settings=settings, group=("agent", "AB"))["thread_id"].tolist() == ["1-c1"]


@pytest.mark.parametrize("zone_name", ["Europe/Ber'lin", "{{as_of}}", "UTC' --"])
def test_a_time_zone_that_is_no_zone_is_refused_cleanly(db: Db, zone_name: str) -> None:
    reader, settings = db
    bad = Settings(db=settings.db, timezone=zone_name)
    with pytest.raises(ConfigError, match="time zone"):
        engine.headline(["threads"], by="day", db=reader, settings=bad)
    with pytest.raises(ConfigError, match="time zone"):
        views.threads(db=reader, settings=bad)
    with pytest.raises(ConfigError, match="time zone"):
        data_views.filter_options(db=reader, settings=bad)
    bh = Settings(db=settings.db, business_hours=BusinessHours(timezone=zone_name))
    with pytest.raises(ConfigError, match="time zone"):
        engine.headline(["first_response_bh_median_s"], db=reader, settings=bh)
