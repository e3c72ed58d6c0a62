"""The weekly history of threads every trend, forecast and weekly chart reads (one window for all).

Below :mod:`carepulse.metrics.views` and the Python computations (:mod:`carepulse.metrics.comparisons`,
:mod:`carepulse.metrics.pilot_figures`), which the engine imports: so none of them needs the views,
which build on the engine.
"""

from __future__ import annotations

from datetime import datetime

from carepulse.metrics.context import Context, zone
from carepulse.metrics.sources import expand
from carepulse.metrics.sql import relation

# This many empty weeks in a row are a gap in the data, not zero demand (see :func:`weekly_counts`).
GAP_WEEKS = 4


def _local(ctx: Context, column: str) -> str:
    return f"timezone($tz, {column})"


def weekly_counts(ctx: Context) -> list[tuple[datetime, int, int, float | None]]:
    """(local week start, threads, answered, median first response) for the weeks of history.

    Weeks run Monday to Sunday in the configured zone. The first and the last week are dropped
    when the data does not cover them fully (a half week would look like a collapse in volume).
    Weeks without threads inside the span count as zero, unless ``GAP_WEEKS`` or more of them
    follow each other: a month without a single thread is a gap in the data, not zero demand, so
    the history starts after the last such gap (and, as at the very start, the week the data
    resumes in counts only if the data covers it from Monday). Without this, one stray tweet from
    years back zero-filled the span into hundreds of weeks and met the forecast's minimum on weeks
    that were never observed. The trend, the forecast and the weekly chart all read this one
    window, so "from N weeks of history" counts the weeks the trend stands on too.
    """
    rel = relation(ctx, "threads", extra_columns=f"{_local(ctx, 'th.started_at')} AS local_start")
    # one time-zone conversion per thread: the week and its first local start come from the same scan
    sql = rel.statement(expand("threads", """,
weeks AS (SELECT date_trunc('week', local_start) AS week, count(*) AS threads,
                 count(*) FILTER (WHERE @answered) AS answered, quantile_cont(frs, 0.5) AS median_s,
                 min(local_start) AS first_local FROM b GROUP BY 1),
span AS (SELECT min(week) AS lo, max(week) AS hi FROM weeks)
SELECT s.week, coalesce(w.threads, 0), coalesce(w.answered, 0), w.median_s, w.first_local
FROM (SELECT unnest(generate_series(lo, hi, INTERVAL 7 DAY)) AS week FROM span) s
LEFT JOIN weeks w USING (week) ORDER BY s.week"""))
    rows = ctx.con.execute(*sql).fetchall()
    start = 0
    empty = 0
    for i, r in enumerate(rows):
        empty = empty + 1 if int(r[1]) == 0 else 0
        if empty >= GAP_WEEKS:
            start = i + 1  # the history can only begin after this gap
    rows = rows[start:]
    if rows and rows[0][4] is not None and rows[0][4].date() > rows[0][0].date():
        rows = rows[1:]  # the data starts (or resumes) after that week's Monday
    out = [(r[0], int(r[1]), int(r[2]), None if r[3] is None else float(r[3])) for r in rows]
    as_of_local = ctx.as_of.astimezone(zone(ctx.tz)).replace(tzinfo=None)
    if out and (as_of_local - out[-1][0]).days < 7:
        out = out[:-1]  # the week is not over at the as-of time
    return out
