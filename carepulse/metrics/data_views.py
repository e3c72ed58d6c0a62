"""The warehouse as data: what was loaded, what was rejected, how CRM cases link, what filters exist.

Read-only functions for the dashboard's Data page, its filter bar and its thread view, returning
plain values or tidy DataFrames (times as naive local timestamps in the configured zone, like
:mod:`carepulse.metrics.views`). Where a filter applies, it is applied through the same source relations
as the metrics (:func:`metrics.sql.relation`), so the numbers agree with the headline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from carepulse.core.config import Settings
from carepulse.metrics.context import Database, Filters, cursor, open_context, zone
from carepulse.metrics.sql import relation
from carepulse.metrics.sqltree import statement
from carepulse.warehouse.delta import ANSWERED
from carepulse.warehouse.store import has_table

if TYPE_CHECKING:
    import pandas as pd


def _local(tz: str, column: str) -> str:
    """``column`` in local time; the zone is a quoted literal, and one that is no zone is a ConfigError
    (not an error of the statement it would go into)."""
    zone(tz)
    return f"timezone($tz, {column})"


def _local_extreme(fn: str, tz: str, column: str, table: str) -> str:
    """``min`` or ``max`` of a column in local time, converting only the rows that can hold it.

    Local time is UTC plus an offset between -12 and +14 hours, so the local extreme lies within
    26 hours of the UTC one: converting those rows (found by the zone maps) instead of every row
    gives the same answer, and a scan of 3 M tweets takes a millisecond instead of 0.4 s.
    """
    edge = f"(SELECT {fn}({column}) FROM {table})"
    near = (f"{column} <= {edge} + INTERVAL 2 DAY" if fn == "min" else f"{column} >= {edge} - INTERVAL 2 DAY")
    return f"(SELECT {fn}({_local(tz, column)}) FROM {table} WHERE {near})"


def _frame(db: Database, code: str, values: dict[str, Any]) -> pd.DataFrame:
    con = cursor(db)
    try:
        return con.execute(*statement(code, values)).df()
    finally:
        con.close()


@dataclass(frozen=True)
class FilterOptions:
    """The values each global filter can take, and the days the data covers (local dates)."""

    accounts: tuple[str, ...]
    channels: tuple[str, ...]
    teams: tuple[str, ...]
    categories: tuple[str, ...]
    first_day: date | None
    last_day: date | None
    # Where the data is: the first day after the last gap of GAP_WEEKS or more weeks without any thread or
    # CRM case (None when there is no such gap), and how many threads lie before it. A stray tweet from
    # years back would otherwise stretch every chart's default range (the public sample: 2011 and 2016).
    main_first_day: date | None = None
    threads_before_main: int = 0


def filter_options(*, db: Database, settings: Settings) -> FilterOptions:
    """Brand accounts with threads, CRM channels (plus 'twitter' when tweets exist), teams, categories."""
    tz = settings.timezone
    sql = f"""
SELECT
  (SELECT list(DISTINCT account ORDER BY account) FROM threads WHERE account IS NOT NULL),
  (SELECT list(DISTINCT channel ORDER BY channel) FROM crm_cases WHERE channel IS NOT NULL),
  (SELECT list(DISTINCT team ORDER BY team) FROM crm_cases WHERE team IS NOT NULL),
  (SELECT list(DISTINCT category ORDER BY category) FROM crm_cases WHERE category IS NOT NULL),
  (SELECT count(*) > 0 FROM tweets),
  least({_local_extreme('min', tz, 'created_at', 'tweets')},
        {_local_extreme('min', tz, 'opened_at', 'crm_cases')})::DATE,
  greatest({_local_extreme('max', tz, 'created_at', 'tweets')},
           {_local_extreme('max', tz, 'opened_at', 'crm_cases')})::DATE"""
    con = cursor(db)
    try:
        row = con.execute(*statement(sql, {"tz": tz})).fetchone()
    finally:
        con.close()
    assert row is not None
    channels = list(row[1] or [])
    if row[4] and "twitter" not in channels:
        channels.insert(0, "twitter")
    main, before = _main_start(db, tz)
    return FilterOptions(tuple(row[0] or ()), tuple(channels), tuple(row[2] or ()), tuple(row[3] or ()),
                         row[5], row[6], main, before)


def _main_start(db: Database, tz: str) -> tuple[date | None, int]:
    """The first local day after the last gap of ``GAP_WEEKS`` or more weeks with no thread and no CRM case,
    and the threads before it; (None, 0) when the data has no such gap. One pass over each table's weeks."""
    from carepulse.metrics.weekly import GAP_WEEKS

    sql = f"""
WITH days AS (SELECT DISTINCT {_local(tz, 'started_at')}::DATE AS d FROM threads
              UNION SELECT DISTINCT {_local(tz, 'opened_at')}::DATE FROM crm_cases),
steps AS (SELECT d, d - lag(d) OVER (ORDER BY d) AS after FROM days WHERE d IS NOT NULL),
start AS (SELECT max(d) AS d FROM steps WHERE after >= {7 * GAP_WEEKS})
SELECT (SELECT d FROM start),
       (SELECT count(*) FROM threads WHERE {_local(tz, 'started_at')}::DATE < (SELECT d FROM start))"""
    con = cursor(db)
    try:
        row = con.execute(*statement(sql, {"tz": tz})).fetchall()[0]
    finally:
        con.close()
    return (row[0], int(row[1])) if row[0] is not None else (None, 0)


def warehouse_summary(*, db: Database, settings: Settings) -> dict[str, Any]:
    """Counts per table, the data's time span (local) and the as-of time the metrics use."""
    from carepulse.metrics.context import default_as_of

    tz = settings.timezone
    con = cursor(db)
    try:
        row = con.execute(*statement(f"""
SELECT (SELECT count(*) FROM tweets), (SELECT count(*) FROM threads),
       (SELECT count(*) FILTER (WHERE {ANSWERED}) FROM threads), (SELECT count(*) FROM crm_cases),
       (SELECT count(*) FROM accounts), (SELECT count(*) FROM ingest_runs), (SELECT count(*) FROM quarantine),
       {_local_extreme('min', tz, 'created_at', 'tweets')}, {_local_extreme('max', tz, 'created_at', 'tweets')},
       {_local_extreme('min', tz, 'opened_at', 'crm_cases')}, {_local_extreme('max', tz, 'opened_at', 'crm_cases')},
       (SELECT max({_local(tz, 'finished_at')}) FROM ingest_runs)""", {"tz": tz})).fetchone()
        as_of = default_as_of(con)
    finally:
        con.close()
    assert row is not None
    keys = ("tweets", "threads", "answered_threads", "crm_cases", "brand_accounts", "ingest_runs", "quarantined",
            "first_tweet_at", "last_tweet_at", "first_case_at", "last_case_at", "last_load_at")
    out = dict(zip(keys, row, strict=True))
    from carepulse.metrics.context import zone

    out["as_of"] = as_of.astimezone(zone(tz)).replace(tzinfo=None)
    return out


def ingest_runs(*, db: Database, settings: Settings, limit: int = 500) -> pd.DataFrame:
    """One row per loaded file, newest first, with the accounting ``read = loaded + duplicate + quarantined``."""
    tz = settings.timezone
    return _frame(db, f"""
SELECT run_id, batch_id, source, file, file_bytes, {_local(tz, 'started_at')} AS started_at,
       epoch(finished_at) - epoch(started_at) AS seconds, records_read, loaded, updated, duplicate,
       quarantined, status, message
FROM ingest_runs ORDER BY run_id DESC LIMIT {int(limit)}""", {"tz": tz})


# Quoted values, numbers and ids vary from record to record; the rest of a reason names the problem.
_REASON_PATTERN = r"""regexp_replace(regexp_replace(reason, '''[^'']*''', '''…''', 'g'), '[0-9]+', '#', 'g')"""


def quarantine_reasons(*, db: Database, settings: Settings) -> pd.DataFrame:
    """Quarantined records per kind of reason (values in quotes and numbers blanked), most frequent first."""
    return _frame(db, f"""
SELECT {_REASON_PATTERN} AS reason_kind, source, count(*) AS records, count(DISTINCT run_id) AS runs,
       min(reason) AS example
FROM quarantine GROUP BY ALL ORDER BY records DESC, reason_kind""", {})


def quarantine(*, db: Database, settings: Settings, limit: int = 1000, run_id: int | None = None) -> pd.DataFrame:
    """The rejected records themselves (raw text as stored, up to 4,000 characters), newest run first."""
    where = "WHERE q.run_id = $run_id" if run_id is not None else ""
    return _frame(db, f"""
SELECT q.run_id, q.source, q.file, q.line, q.record_no, q.reason, q.raw
FROM quarantine q {where}
ORDER BY q.run_id DESC, q.line NULLS LAST, q.record_no NULLS LAST
LIMIT {int(limit)}""", {"run_id": run_id})


def crm_link_coverage(filters: Filters | None = None, *, db: Database, settings: Settings,
                      as_of: datetime | None = None) -> pd.DataFrame:
    """CRM cases per channel and link method (conversation, handle_window, none), with the share linked.

    Cases are selected like the case metrics (opened by as-of, duplicates left out, global filters).
    """
    ctx = open_context(db, settings, filters, None, as_of)
    rel = relation(ctx, "cases", extra_columns="c.link_method")
    sql = rel.statement("""
SELECT channel, count(*) AS cases,
       count(*) FILTER (WHERE link_method = 'conversation') AS conversation,
       count(*) FILTER (WHERE link_method = 'handle_window') AS handle_window,
       count(*) FILTER (WHERE coalesce(link_method, 'none') = 'none') AS none,
       count(*) FILTER (WHERE linked_thread_id IS NOT NULL) / count(*) AS linked_share
FROM b GROUP BY channel ORDER BY cases DESC, channel""")
    try:
        return ctx.con.execute(*sql).df()
    finally:
        ctx.con.close()


def thread_detail(thread_id: str, *, db: Database, settings: Settings) -> dict[str, Any] | None:
    """One thread's header: account, customer, status, start and first response (local), counts."""
    tz = settings.timezone
    frame = _frame(db, f"""
SELECT thread_id, conversation_id, account, account_rule, customer_handle, status,
       {_local(tz, 'started_at')} AS started_at, {_local(tz, 'first_response_at')} AS first_response_at,
       first_response_seconds, customer_tweets, brand_replies, conversation_tweets, lang, customer_followers
FROM threads WHERE thread_id = $thread_id""", {"tz": tz, "thread_id": thread_id})
    if frame.empty:
        return None
    return {str(k): (None if _is_missing(v) else v) for k, v in frame.iloc[0].to_dict().items()}


def _is_missing(value: Any) -> bool:
    try:
        return bool(value != value)
    except TypeError:
        return value is None


def thread_cases(thread_id: str, *, db: Database, settings: Settings) -> pd.DataFrame:
    """The CRM cases linked to one thread, with how each was linked, earliest first."""
    tz = settings.timezone
    return _frame(db, f"""
SELECT case_id, channel, link_method, {_local(tz, 'opened_at')} AS opened_at,
       {_local(tz, 'closed_at')} AS closed_at, outcome, agent, team, category, handled_minutes, csat, nps
FROM crm_cases WHERE linked_thread_id = $thread_id
ORDER BY opened_at, case_id""", {"tz": tz, "thread_id": thread_id})


def saved_views(*, db: Database, settings: Settings, limit: int = 200) -> tuple[tuple[str, str, str], ...]:
    """The dashboard's saved views as (name, page, query), by name; none in a warehouse written before
    saved views existed (the table appears with the next write)."""
    con = cursor(db)
    try:
        if not has_table(con, "saved_views"):
            return ()
        rows = con.execute("SELECT name, page, query FROM saved_views ORDER BY lower(name), name LIMIT ?",
                           [limit]).fetchall()
    finally:
        con.close()
    return tuple((str(a), str(b), str(c)) for a, b, c in rows)
