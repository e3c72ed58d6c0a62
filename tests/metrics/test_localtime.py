"""Local times without ICU per row (:mod:`carepulse.metrics.localtime`) are exactly DuckDB's ``timezone``.

Every moment compared: a grid of 17 minutes over fifteen years (inside the window and years before and
after it), each transition of the window and the microsecond and second on both sides of it, NULL; in
zones with and without daylight saving time, half-hour offsets and a zone whose DST moves by 30 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from carepulse.metrics import localtime
from carepulse.metrics.sqltree import compiled, display, statement

AS_OF = datetime(2018, 4, 27, 17, 37, tzinfo=UTC)
ZONES = ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata", "Australia/Lord_Howe", "America/Sao_Paulo",
         "Pacific/Chatham", "Africa/Casablanca"]


def _near_transitions(zone: str) -> list[datetime | None]:
    cuts, _ = localtime.boundaries(zone, localtime.window(AS_OF))
    return [c + delta for c in cuts for delta in (timedelta(microseconds=-1), timedelta(0), timedelta(microseconds=1),
                                                  timedelta(seconds=-1), timedelta(seconds=1))]


@pytest.mark.parametrize("zone", ZONES)
def test_the_fast_form_is_timezone_at_every_moment(zone: str) -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE m AS SELECT unnest($near) AS moment_at UNION ALL SELECT NULL UNION ALL SELECT t "
                "FROM generate_series(TIMESTAMPTZ '2009-01-01', TIMESTAMPTZ '2024-01-01', INTERVAL 17 MINUTE) AS s(t)",
                {"near": _near_transitions(zone)})
    # the exact side names its zone by a value the rewrite does not know: it stays timezone()
    fast = statement("SELECT count(*) FILTER (WHERE timezone($tz, m.moment_at) IS DISTINCT FROM timezone($exact, "
                     "m.moment_at)), count(*) FILTER (WHERE m.moment_at IS NULL), count(*) FROM m",
                     {"tz": zone, "exact": zone, "as_of": AS_OF})
    assert fast.sql.count("make_timestamp") >= 1 and fast.sql.count("timezone($exact") == 1  # the fast form runs
    (differing, null, moments), = con.execute(*fast).fetchall()
    assert (differing, null) == (0, 1)
    grid = (datetime(2024, 1, 1) - datetime(2009, 1, 1)) // timedelta(minutes=17) + 1
    assert moments == 1 + grid + 5 * len(localtime.boundaries(zone, localtime.window(AS_OF))[0])


def test_the_window_is_the_as_of_year_and_two_before() -> None:
    cuts, offsets = localtime.boundaries("Europe/Berlin", localtime.window(AS_OF))
    assert localtime.window(AS_OF) == (2016, 2018)
    assert cuts[0] == datetime(2016, 1, 1, tzinfo=UTC) and cuts[-1] == datetime(2019, 1, 1, tzinfo=UTC)
    assert len(cuts) == 2 + 6  # three springs and three autumns
    assert offsets[0] is None and offsets[-1] is None  # before and after: timezone() itself
    assert offsets[1:-1] == (3_600_000_000, 7_200_000_000) * 3 + (3_600_000_000,)
    assert datetime(2017, 3, 26, 1, tzinfo=UTC) in cuts  # 02:00 CET became 03:00 CEST


def test_only_moments_in_a_zone_placeholder_are_rewritten() -> None:
    """A wall-clock time turned into a moment (``timezone($bh_tz, day + time)``), a moment given as a value
    and a zone written as a literal keep ``timezone``; a ``*_at`` column in ``$tz`` or ``$bh_tz`` does not."""
    values = {"tz": "Europe/Berlin", "bh_tz": "Europe/Berlin", "as_of": AS_OF, "t": AS_OF}
    kept = ["SELECT timezone($bh_tz, d.day + h.opens) FROM d, h", "SELECT timezone($tz, $t)",
            "SELECT timezone('Europe/Berlin', th.started_at) FROM threads AS th",
            "SELECT timezone($tz, min(th.started_at)) FROM threads AS th"]
    for code in kept:
        assert "make_timestamp" not in statement(code, values).sql, code
    for code in ("SELECT timezone($tz, th.started_at) FROM threads AS th",
                 "SELECT timezone($bh_tz, c.opened_at) FROM crm_cases AS c"):
        assert "make_timestamp" in statement(code, values).sql, code


def test_the_zone_stays_a_parameter_and_explain_shows_timezone() -> None:
    code = "SELECT hour(timezone($tz, th.started_at)) FROM threads AS th"
    berlin = statement(code, {"tz": "Europe/Berlin", "as_of": AS_OF})
    assert "Europe/Berlin" not in berlin.sql and berlin.params["tz"] == "Europe/Berlin"
    assert "timezone('Europe/Berlin', th.started_at)" in display(berlin, pretty=False)
    assert "make_timestamp" not in display(berlin, pretty=False)
    # another zone, another year: another compilation (the zone and the window are part of the cache key)
    assert statement(code, {"tz": "America/New_York", "as_of": AS_OF}).sql != berlin.sql
    assert statement(code, {"tz": "Europe/Berlin", "as_of": AS_OF + timedelta(days=366)}).sql != berlin.sql
    assert compiled(code, 0)[0] != berlin.sql  # without a zone: as written
