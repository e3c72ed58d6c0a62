"""Drill-down data for the dashboard: pure functions returning tidy DataFrames.

Each takes the same global :class:`~metrics.context.Filters` as the headline metrics and reads the
same source relations (:func:`metrics.sql.relation`), so a list of threads always adds up to the
number it was opened from. Times are shown in the configured time zone (naive local timestamps).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from carepulse.core.config import Settings
from carepulse.core.errors import ConfigError
from carepulse.metrics import sentiment
from carepulse.metrics.context import Context, Database, Filters, open_context
from carepulse.metrics.sources import LAST_CUSTOMER_OF_PICKED, NO_VALUE, expand
from carepulse.metrics.sql import relation
from carepulse.metrics.sqltree import Statement, statement
from carepulse.metrics.weekly import GAP_WEEKS as GAP_WEEKS  # re-exported: the drill-down API
from carepulse.metrics.weekly import weekly_counts
from carepulse.warehouse import values

if TYPE_CHECKING:
    import pandas as pd

ThreadOrder = Literal["started_at", "first_response_seconds", "waiting_seconds", "exposure"]
Status = Literal["answered", "unanswered"]  # values.ANSWERED, values.UNANSWERED
_ANSWERED, _UNANSWERED = values.quoted(values.ANSWERED), values.quoted(values.UNANSWERED)

# First-response bins a manager reads at a glance (upper bounds in seconds, the last is open).
HISTOGRAM_BINS: tuple[tuple[str, float, float | None], ...] = (
    ("< 5 min", 0, 300), ("5-15 min", 300, 900), ("15-30 min", 900, 1800), ("30-60 min", 1800, 3600),
    ("1-2 h", 3600, 7200), ("2-4 h", 7200, 14400), ("4-8 h", 14400, 28800), ("8-24 h", 28800, 86400),
    ("1-3 days", 86400, 259200), ("> 3 days", 259200, None),
)


def _frame(ctx: Context, sql: Statement) -> pd.DataFrame:
    try:
        return ctx.con.execute(*sql).df()
    finally:
        ctx.con.close()


def _local(ctx: Context, column: str) -> str:
    return f"timezone($tz, {column})"


def threads(filters: Filters | None = None, *, db: Database, settings: Settings, as_of: datetime | None = None,
            group: tuple[str, str] | None = None, status: Status | None = None, limit: int | None = 100,
            order: ThreadOrder = "started_at", descending: bool = True) -> pd.DataFrame:
    """The threads behind a number: ``group=("agent", "AB")`` narrows to one group of a breakdown."""
    if order not in ("started_at", "first_response_seconds", "waiting_seconds", "exposure"):
        raise ConfigError(f"cannot order threads by {order!r}")
    by, key = group if group else (None, None)
    ctx = open_context(db, settings, filters, by, as_of)
    # The texts (the first customer tweet, the first response that carries the agent's signature)
    # are looked up for the threads shown only, after ordering and the limit: 100 lookups instead of
    # 770 k on a 3 M-tweet warehouse. Both are read in one pass over ``tweets`` (``texts``): a join per
    # text scanned the tweets twice (10 M tweets, 500 threads: one lookup pass costs about 50 ms).
    rel = relation(ctx, "threads", ("tc",), by=by, extra_columns="tc.agent AS case_agent")
    conditions = ["true"]
    if key is not None:
        conditions.append(rel.key + " = $group")  # the group name is a value: a literal of the tree
    if status is not None:
        conditions.append("answered" if status == values.ANSWERED else "NOT answered")  # the boolean column
    direction = "DESC" if descending else "ASC"
    # a row count is part of the code, not a parameter: DuckDB turns ORDER BY ... LIMIT <constant> into a
    # top-N (a parameter made it sort all 770 k threads of the 3 M warehouse: 0.12 s -> 0.19 s)
    limit_sql = f"LIMIT {int(limit)}" if limit else ""
    order_expr = {"started_at": _local(ctx, "started_at"), "first_response_seconds": "frs",
                  "waiting_seconds": "waiting_s", "exposure": "@exposure"}[order]  # what the output column holds
    sql = rel.statement(expand("threads", f""",
picked AS (
    SELECT *, @exposure AS exposure, CASE WHEN @sla_decided THEN @sla_met END AS sla_met
    FROM b WHERE {' AND '.join(conditions)}
    ORDER BY {order_expr} {direction} NULLS LAST, thread_id
    {limit_sql}),
texts AS MATERIALIZED (
    SELECT tweet_id, text FROM tweets
    WHERE tweet_id IN (SELECT first_response_tweet_id FROM picked UNION ALL
                       SELECT first_customer_tweet_id FROM picked))
SELECT p.thread_id, p.conversation_id, p.account, p.customer_handle,
       CASE WHEN p.answered THEN {_ANSWERED} ELSE {_UNANSWERED} END AS status,
       {_local(ctx, 'p.started_at')} AS started_at, {_local(ctx, 'p.first_response_at')} AS first_response_at,
       p.frs AS first_response_seconds, p.waiting_s AS waiting_seconds,
       p.sla_met,
       coalesce(p.case_agent, carepulse_signature(fr.text)) AS agent, p.customer_tweets, p.brand_replies,
       p.customer_followers, p.exposure, ft.text AS first_text
FROM picked p
LEFT JOIN texts fr ON fr.tweet_id = p.first_response_tweet_id
LEFT JOIN texts ft ON ft.tweet_id = p.first_customer_tweet_id
ORDER BY {order} {direction} NULLS LAST, thread_id"""), {"group": key})
    return _frame(ctx, sql)


def thread_tweets(thread_id: str, *, db: Database, settings: Settings) -> pd.DataFrame:
    """The thread's whole conversation in order: author, role, local time, wait since the previous tweet.

    Roles: ``customer`` (this thread's customer), ``brand``, ``other customer``.
    """
    ctx = open_context(db, settings)
    sql = statement(f"""
WITH th AS (SELECT * FROM threads WHERE thread_id = $thread_id)
SELECT t.tweet_id, {_local(ctx, 't.created_at')} AS created_at, t.author_handle,
       CASE WHEN t.is_brand THEN 'brand' WHEN t.author_id = th.customer_id THEN 'customer'
            ELSE 'other customer' END AS role,
       t.text, t.parent_id, t.tweet_id = th.first_response_tweet_id AS is_first_response,
       epoch(t.created_at) - epoch(lag(t.created_at) OVER (ORDER BY t.created_at, t.tweet_id)) AS wait_seconds
FROM tweets t JOIN th ON t.conversation_id = th.conversation_id
ORDER BY t.created_at, t.tweet_id""", {"tz": ctx.tz, "thread_id": thread_id})
    return _frame(ctx, sql)


def waiting_queue(filters: Filters | None = None, *, db: Database, settings: Settings,
                  as_of: datetime | None = None, limit: int = 50, max_age_days: float | None = None) -> pd.DataFrame:
    """Unanswered threads that can still be answered, longest waiting first, with exposure and the
    last customer tweet's sentiment.

    A team lead works this list top down, so it holds only threads that started at most
    ``max_age_days`` (default ``settings.queue_max_age_days``) before the as-of time: threads left
    unanswered for months are abandoned, and listed first by waiting time they would bury every
    thread that can still be answered. This is a view, not a definition: the metrics count every
    unanswered thread, and :func:`threads` with ``status="unanswered"`` lists them all.

    ``frame.attrs`` carries the counts beyond ``limit``: ``waiting`` (threads in the queue),
    ``breached`` (of them waiting longer than the SLA), ``older`` (unanswered threads left out for
    their age) and ``max_age_days``.
    """
    days = settings.queue_max_age_days if max_age_days is None else float(max_age_days)
    max_age_s = days * 86400.0
    ctx = open_context(db, settings, filters, None, as_of)
    # Counting and choosing the threads needs no text; the first and the last customer tweet are
    # looked up for the ``limit`` threads shown only (not for every thread of a 3 M-tweet warehouse).
    rel = relation(ctx, "threads")
    counts = ctx.con.execute(*rel.statement(expand("threads", """
SELECT count(*) FILTER (WHERE waiting_s <= $max_age_s),
       count(*) FILTER (WHERE waiting_s <= $max_age_s AND @sla_breached),
       count(*) FILTER (WHERE waiting_s > $max_age_s)
FROM b WHERE @unanswered"""), {"max_age_s": max_age_s})).fetchone()
    waiting, breached, older = (int(n) for n in counts) if counts else (0, 0, 0)
    sql = rel.statement(expand("threads", f""",
picked AS (
    SELECT *, @sla_breached AS sla_breached, @exposure AS exposure FROM b
    WHERE @unanswered AND waiting_s <= $max_age_s
    ORDER BY waiting_s DESC, thread_id
    LIMIT {int(limit)}),
{LAST_CUSTOMER_OF_PICKED}
SELECT p.thread_id, p.account, p.customer_handle, {_local(ctx, 'p.started_at')} AS started_at,
       p.waiting_s AS waiting_seconds, p.sla_breached, p.customer_followers,
       p.exposure, p.customer_tweets, ft.text AS first_text,
       lc.last_text, lc.last_lang
FROM picked p
LEFT JOIN tweets ft ON ft.tweet_id = p.first_customer_tweet_id
LEFT JOIN last_customer lc ON lc.conversation_id = p.conversation_id AND lc.customer_id = p.customer_id
ORDER BY waiting_seconds DESC, thread_id"""), {"max_age_s": max_age_s})
    frame = _frame(ctx, sql)
    frame["last_sentiment"] = sentiment.score_many(frame["last_text"].tolist(), frame["last_lang"].tolist())
    frame["negative"] = [sentiment.label(v) == "negative" for v in frame["last_sentiment"]]
    frame = frame.drop(columns=["last_lang"])
    frame.attrs.update(waiting=waiting, breached=breached, older=older, max_age_days=days)
    return frame


def first_response_histogram(filters: Filters | None = None, *, db: Database, settings: Settings,
                             as_of: datetime | None = None) -> pd.DataFrame:
    """Answered threads per first-response bin, then one row of still unanswered threads."""
    ctx = open_context(db, settings, filters, None, as_of)
    rel = relation(ctx, "threads")
    cases = " ".join(
        f"WHEN frs < {upper} THEN {i}" for i, (_, _, upper) in enumerate(HISTOGRAM_BINS) if upper is not None
    )
    sql = rel.statement(expand("threads", f"""
SELECT CASE WHEN @unanswered THEN {len(HISTOGRAM_BINS)} {cases} ELSE {len(HISTOGRAM_BINS) - 1} END AS bin,
       count(*) AS threads
FROM b GROUP BY bin"""))
    counts = {int(b): int(n) for b, n in ctx.con.execute(*sql).fetchall()}
    ctx.con.close()
    import pandas as pd

    rows: list[dict[str, Any]] = [
        {"bin": label, "lower_s": lower, "upper_s": upper, "threads": counts.get(i, 0)}
        for i, (label, lower, upper) in enumerate(HISTOGRAM_BINS)
    ]
    rows.append({"bin": "unanswered", "lower_s": None, "upper_s": None, "threads": counts.get(len(HISTOGRAM_BINS), 0)})
    total = sum(r["threads"] for r in rows)
    for r in rows:
        r["share"] = r["threads"] / total if total else None
    return pd.DataFrame(rows)


def answered_within(histogram: pd.DataFrame, seconds: float) -> float | None:
    """Share of all threads (waiting ones included, as not answered) answered within ``seconds``, from
    :func:`first_response_histogram`'s bins: the bins whose upper bound is at most ``seconds`` (exact at a
    bin boundary: 5, 15, 30, 60 min, 2, 4, 8, 24 h, 3 days). None without threads."""
    if histogram.empty or not histogram["threads"].sum():
        return None
    inside = histogram[(histogram["upper_s"].notna()) & (histogram["upper_s"] <= seconds)]["threads"].sum()
    return float(inside) / float(histogram["threads"].sum())


Clock = Literal["business", "calendar"]
_AGENT_METRICS: dict[str, tuple[str, str, str]] = {
    "business": ("first_response_bh_median_s", "sla_met_bh_share", "sla_breached_bh_threads"),
    "calendar": ("first_response_median_s", "sla_met_share", "sla_breached_threads"),
}


def agent_speed(filters: Filters | None = None, *, db: Database, settings: Settings, as_of: datetime | None = None,
                clock: Clock = "business") -> pd.DataFrame:
    """Per agent: answered threads (``n``), median first response with its 95% interval, SLA share and its n,
    and the count of SLA breaches (``sla_breached``).

    Business hours by default: in calendar time the agent who opens the desk in the morning is charged
    with the night the desk was closed, and overnight-queue agents looked 5-8x slower (283 min vs 50 min in
    business hours). ``clock="calendar"`` gives the customer's view. The "(none)" group is not an agent:
    threads nobody answered, or whose first response has no signature and no CRM agent. It is left out
    of the rows, so it cannot top a ranking of agents, and ``frame.attrs`` carries its size
    (``unattributed_threads``, of them ``unattributed_answered``) and the ``clock``.
    """
    if clock not in _AGENT_METRICS:
        raise ConfigError(f"clock must be 'business' or 'calendar', got {clock!r}")
    from carepulse.metrics.engine import query  # lazily: the engine's imports (statistics) are heavy

    median, sla, breached = _AGENT_METRICS[clock]
    frame = query(["threads", "answered_threads", median, sla, breached], by="agent", filters=filters, db=db,
                  settings=settings, as_of=as_of, ci=True)
    none = frame["agent"] == NO_VALUE.get("agent", "(none)")
    unattributed = frame[none]
    frame = frame[~none].rename(columns={
        "answered_threads": "n", median: "first_response_median_s", f"{median}_ci_low": "ci_low",
        f"{median}_ci_high": "ci_high", sla: "sla_met_share", f"{sla}_n": "sla_met_n", breached: "sla_breached"})
    frame = frame[["agent", "n", "first_response_median_s", "ci_low", "ci_high", "sla_met_share", "sla_met_n",
                   "sla_breached"]]
    frame = frame.reset_index(drop=True)
    frame.attrs = {"clock": clock, "unattributed_threads": int(unattributed["threads"].sum()),
                   "unattributed_answered": int(unattributed["answered_threads"].sum())}
    return frame


def km_curve(filters: Filters | None = None, *, db: Database, settings: Settings,
             as_of: datetime | None = None) -> pd.DataFrame:
    """'Share answered within t' (Kaplan-Meier, unanswered censored at as-of) with 95% bands.

    ``frame.attrs`` carries ``median_s``, ``median_ci`` (low, high; high may be inf), ``n``, ``events``.
    """
    import pandas as pd

    ctx = open_context(db, settings, filters, None, as_of)
    rel = relation(ctx, "threads")
    rows = ctx.con.execute(*rel.statement(expand("threads", "\nSELECT @response_or_wait_s, @answered FROM b"))
                           ).fetchall()
    ctx.con.close()
    from carepulse.metrics.stats import kaplan_meier

    km = kaplan_meier([r[0] for r in rows], [bool(r[1]) for r in rows])
    frame = pd.DataFrame({"time_s": km.times, "share_answered": km.share_answered,
                          "ci_low": km.ci_low, "ci_high": km.ci_high})
    frame.attrs.update(median_s=km.median, median_ci=km.median_ci, n=km.n, events=km.events)
    return frame


def sla_breaches_by_day(filters: Filters | None = None, *, db: Database, settings: Settings,
                        as_of: datetime | None = None) -> pd.DataFrame:
    """Per local day of thread start: met, breached (late or waiting past the SLA), undecided."""
    ctx = open_context(db, settings, filters, "day", as_of)
    rel = relation(ctx, "threads", by="day")
    sql = rel.statement(expand("threads", f"""
SELECT {rel.key} AS day, count(*) AS threads,
       count(*) FILTER (WHERE @sla_met) AS met,
       count(*) FILTER (WHERE @sla_breached) AS breached,
       count(*) FILTER (WHERE @sla_undecided) AS undecided,
       met / nullif(met + breached, 0) AS sla_met_share
FROM b GROUP BY ALL ORDER BY day"""))
    return _frame(ctx, sql)


def arrivals_heatmap(filters: Filters | None = None, *, db: Database, settings: Settings,
                     as_of: datetime | None = None) -> pd.DataFrame:
    """Threads started per local weekday x hour, with the median first response of each cell."""
    ctx = open_context(db, settings, filters, None, as_of)
    rel = relation(ctx, "threads", extra_columns=f"isodow({_local(ctx, 'th.started_at')}) AS weekday_no, "
                                                 f"hour({_local(ctx, 'th.started_at')}) AS hour")
    sql = rel.statement("""
SELECT weekday_no, ['Mon','Tue','Wed','Thu','Fri','Sat','Sun'][weekday_no] AS weekday, hour,
       count(*) AS threads, quantile_cont(frs, 0.5) AS first_response_median_s
FROM b GROUP BY weekday_no, hour ORDER BY weekday_no, hour""")
    return _frame(ctx, sql)


def weekly_series(filters: Filters | None = None, *, db: Database, settings: Settings,
                  as_of: datetime | None = None, weeks_ahead: int = 4) -> pd.DataFrame:
    """Complete weeks of threads, answered threads and median first response, then the forecast.

    Forecast rows have ``kind = 'forecast'`` and ``threads`` = the ETS mean with ``pi_low``/``pi_high``.
    """
    import pandas as pd

    ctx = open_context(db, settings, filters, None, as_of)
    try:
        weeks = weekly_counts(ctx)
    finally:
        ctx.con.close()
    rows: list[dict[str, Any]] = [
        {"week": w, "kind": "actual", "threads": float(n), "answered_threads": a, "first_response_median_s": m,
         "pi_low": None, "pi_high": None} for w, n, a, m in weeks
    ]
    from carepulse.metrics.stats import forecast_weeks

    forecast = forecast_weeks([r["threads"] for r in rows], horizon=weeks_ahead, min_weeks=settings.min_weeks)
    if rows and len(forecast.mean):
        last = rows[-1]["week"]
        for i, (mean, low, high) in enumerate(zip(forecast.mean, forecast.low, forecast.high, strict=True), 1):
            rows.append({"week": last + pd.Timedelta(days=7 * i), "kind": "forecast", "threads": float(mean),
                         "answered_threads": None, "first_response_median_s": None,
                         "pi_low": float(low), "pi_high": float(high)})
    frame = pd.DataFrame(rows, columns=["week", "kind", "threads", "answered_threads", "first_response_median_s",
                                        "pi_low", "pi_high"])
    frame.attrs["forecast_verdict"] = forecast.total.verdict
    return frame
