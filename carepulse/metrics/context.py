"""What every metric computation needs: a read cursor, the settings, the as-of time and the filters.

Filter values are written into SQL as escaped literals (never concatenated raw), so that
:func:`metrics.engine.explain` can show SQL a reader can paste into ``duckdb`` and run. They are put
in last: templates carry ``{{$name}}`` markers, and the one fill pass (:func:`metrics.sources.fill`)
writes each value as a literal and never reads it again, so a value such as ``{{as_of}}`` stays text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, Protocol, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from carepulse.core.config import Settings
from carepulse.core.errors import ConfigError

# The ways a selection can be broken down: a context checks ``by`` against them, the registry says
# which metric allows which (here, at the bottom of metrics, so neither imports the other's module).
Breakdown = Literal["account", "agent", "team", "category", "channel", "day", "week", "month", "hour",
                    "weekday"]
BREAKDOWNS: tuple[str, ...] = get_args(Breakdown)
TIME_BREAKDOWNS: frozenset[str] = frozenset({"day", "week", "month", "hour", "weekday"})


class HasConnection(Protocol):
    """A warehouse reader (:class:`warehouse.store.Reader`): a fresh cursor per call."""

    def connection(self) -> duckdb.DuckDBPyConnection: ...


Database = HasConnection | duckdb.DuckDBPyConnection


def cursor(db: Database) -> duckdb.DuckDBPyConnection:
    """A cursor of its own: DuckDB 2 streams results, so two queries never share one."""
    if isinstance(db, duckdb.DuckDBPyConnection):
        return db.cursor()
    return db.connection()


@dataclass(frozen=True)
class Filters:
    """The global filters. Dates are days in the configured time zone, both ends inclusive.

    Each source applies them to its own time column (tweets: created, threads: started, CRM
    cases: opened) and to its own dimension columns; ``channel`` is 'twitter' for tweets and threads.
    """

    date_from: date | None = None
    date_to: date | None = None
    account: str | None = None
    channel: str | None = None
    team: str | None = None
    category: str | None = None
    # The agent as the breakdown by agent names them: the CRM case's agent, else the signature ending the
    # first response (``sources``); a filter on it keeps that agent's threads, tweets, replies and cases.
    agent: str | None = None

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ConfigError(f"--to {self.date_to} is before --from {self.date_from}")
        if self.account:
            object.__setattr__(self, "account", self.account.strip().lstrip("@"))

    def describe(self) -> dict[str, Any]:
        """JSON-friendly, only the filters that are set."""
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items() if v}

    def dimension_values(self) -> dict[str, str]:
        return {k: v for k in ("account", "channel", "team", "category", "agent") if (v := getattr(self, k))}


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown time zone {name!r}") from exc


def local_midnight_utc(day: date, tz: str) -> datetime:
    """The UTC instant at which ``day`` starts in time zone ``tz``."""
    return datetime.combine(day, time(0), tzinfo=zone(tz)).astimezone(UTC)


@dataclass
class Context:
    """One query's inputs. ``as_of`` is the moment the data is looked at: later tweets, responses
    and cases do not exist yet, and unanswered threads are censored there."""

    con: duckdb.DuckDBPyConnection
    settings: Settings
    as_of: datetime
    filters: Filters = field(default_factory=Filters)
    by: str | None = None
    ci: bool = False
    # whether statements may read memos registered on the cursor (metrics.signoffs); off for --explain,
    # whose SQL must run pasted into any duckdb
    memo: bool = True

    @property
    def tz(self) -> str:
        return self.settings.timezone

    def window(self) -> tuple[datetime | None, datetime | None]:
        """The filter dates as a half-open UTC interval [start, end)."""
        start = local_midnight_utc(self.filters.date_from, self.tz) if self.filters.date_from else None
        end = (local_midnight_utc(self.filters.date_to + timedelta(days=1), self.tz)
               if self.filters.date_to else None)
        return start, end


LATEST_TWEET_SQL = "(SELECT created_at FROM tweets ORDER BY created_at DESC NULLS LAST LIMIT 1)"
"""The latest tweet's time, as ``max(created_at)`` but read as a top-1: with a delta beside the base, ``tweets`` is
the base less its replaced rows plus the delta, and ``max`` reads every row through that anti-join (10 M tweets:
10.5-10.9 ms a call, and every dashboard callback makes several), while the top-1 skips the row groups whose zone
maps cannot hold the answer (2.1-2.5 ms). The same value, NULL for no tweets."""


def default_as_of(con: duckdb.DuckDBPyConnection) -> datetime:
    """The data's as-of time: the latest record of any source (a tweet written, a CRM case opened), else
    the latest CRM case event, else now. Taking the tweets' end alone would make the cases of a CRM export
    pulled later than the tweets vanish without a word (issue 12)."""
    row = con.execute(
        f"""SELECT coalesce(greatest({LATEST_TWEET_SQL}, (SELECT max(opened_at) FROM crm_cases)),
                            (SELECT greatest(max(opened_at), max(closed_at)) FROM crm_cases))"""
    ).fetchone()
    if row and row[0] is not None:
        moment: datetime = row[0]
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


def parse_as_of(text: str, tz: str) -> datetime:
    """``--as-of``: an ISO date or timestamp; without an offset it is local time in ``tz``."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"--as-of: expected an ISO timestamp like 2017-11-30T18:00, got {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz))
    return moment.astimezone(UTC)


def open_context(db: Database, settings: Settings, filters: Filters | None = None, by: str | None = None,
                 as_of: datetime | None = None, ci: bool = False) -> Context:
    """A context with its own cursor (close ``ctx.con`` when done); as-of defaults to the data's."""
    if by is not None and by not in BREAKDOWNS:
        raise ConfigError(f"cannot break down by {by!r} (choose from {', '.join(BREAKDOWNS)})")
    if as_of is not None and as_of.tzinfo is None:
        raise ConfigError("as_of needs a time zone")
    zone(settings.timezone)  # goes into SQL as a literal: a name that is no zone is refused here, cleanly
    con = cursor(db)
    moment = as_of or default_as_of(con)
    return Context(con, settings, moment, filters or Filters(), by, ci)
