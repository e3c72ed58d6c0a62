"""SLA breaches by agent x hour and weekday x hour: cells worked out by hand, and the sum against the metric.

Fixture A (tests/metrics/fixtures.py), SLA 60 min, Europe/Berlin (UTC+1 on Tue 31 Oct 2017):
  thread  agent   started (UTC -> Berlin)   first response        breached?
  1-c1    AB      09:00 -> Tue 10            600 s                 no
  4-c2    Becky   10:00 -> Tue 11            7200 s                yes (late)
  6-c3    SR      11:00 -> Tue 12            1800 s                no
  11-c6   ab      14:05 -> Tue 15            900 s                 no
  14-c7   KMG     21:00 -> Tue 22            39600 s               yes (late)
  10-c4   (none)  13:00 -> Tue 14            waits 19 h            yes (waiting past the SLA)
  11-c5   (none)  14:00 -> Tue 15            waits 18 h            yes (waiting past the SLA)
So 4 breaches (as sla_breached_threads in test_golden): Becky@11, KMG@22, (none)@14, (none)@15, all Tuesday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from carepulse.core.config import Settings
from carepulse.metrics import engine
from carepulse.metrics.breaches import NO_AGENT, OTHERS, arrange, sla_breaches
from carepulse.metrics.context import Filters
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import FIXTURE_A, load_twcs

TUE = 1  # row of Tuesday in by_weekday (Monday first)
AS_OF = datetime(2017, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Settings]:
    folder: Path = tmp_path_factory.mktemp("breaches")
    settings = Settings(db=folder / "wh.duckdb")
    return load_twcs(folder, FIXTURE_A, settings), settings


def nonzero(grid: tuple[tuple[int, ...], ...], labels: tuple[str, ...]) -> dict[tuple[str, int], int]:
    return {(labels[r], h): n for r, row in enumerate(grid) for h, n in enumerate(row) if n}


def test_cells_worked_out_by_hand(loaded: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = loaded
    counts = sla_breaches(db=warehouse.reader(), settings=settings)
    assert counts.as_of == AS_OF and counts.timezone == "Europe/Berlin"
    # Becky and KMG have one breach each (ties by name), the agent-less threads come last, not ranked
    assert counts.rows == ("Becky", "KMG", NO_AGENT)
    assert nonzero(counts.by_agent, counts.rows) == {("Becky", 11): 1, ("KMG", 22): 1, (NO_AGENT, 14): 1,
                                                     (NO_AGENT, 15): 1}
    assert nonzero(counts.by_weekday, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")) == {
        ("Tue", 11): 1, ("Tue", 14): 1, ("Tue", 15): 1, ("Tue", 22): 1}
    assert counts.total == 4 and counts.others == 0


def test_the_agent_filter_and_the_as_of_time_apply(loaded: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = loaded
    becky = sla_breaches(Filters(agent="becky"), db=warehouse.reader(), settings=settings)
    assert becky.rows == ("Becky",) and nonzero(becky.by_agent, becky.rows) == {("Becky", 11): 1}
    # at 12:30 UTC only c1 (answered 09:10), c2 (answered 12:00, late) and c3 (answered 11:30) exist
    early = sla_breaches(db=warehouse.reader(), settings=settings, as_of=datetime(2017, 10, 31, 12, 30, tzinfo=UTC))
    assert early.rows == ("Becky",) and early.total == 1 and early.by_weekday[TUE][11] == 1
    # a day with no thread: nothing breached, no rows
    none = sla_breaches(Filters(date_from=date(2017, 11, 5), date_to=date(2017, 11, 6)), db=warehouse.reader(),
                        settings=settings)
    assert none.rows == () and none.total == 0


def test_a_longer_sla_breaches_less(tmp_path: Path) -> None:
    # SLA 3 h: only KMG (11 h) and the two threads waiting 18-19 h breach
    settings = Settings(db=tmp_path / "wh.duckdb", sla_minutes=180)
    warehouse = load_twcs(tmp_path, FIXTURE_A, settings)
    counts = sla_breaches(db=warehouse.reader(), settings=settings)
    assert counts.rows == ("KMG", NO_AGENT) and counts.total == 3


@pytest.mark.parametrize("filters", [Filters(), Filters(agent="KMG"), Filters(account="AcmeCare"),
                                     Filters(date_from=date(2017, 10, 31), date_to=date(2017, 10, 31))])
def test_the_grids_add_up_to_the_metric(loaded: tuple[Warehouse, Settings], filters: Filters) -> None:
    warehouse, settings = loaded
    counts = sla_breaches(filters, db=warehouse.reader(), settings=settings)
    metric = engine.compute(["sla_breached_threads"], filters=filters, db=warehouse.reader(), settings=settings)
    expected = metric.total["sla_breached_threads"].value
    assert counts.total == expected
    assert sum(map(sum, counts.by_agent)) == expected


def test_top_agents_then_others_then_no_agent() -> None:
    rows = [(f"agent{i:02d}", 3, 9, i) for i in range(1, 21)]  # agent20 has 20 breaches ... agent01 has 1
    rows += [(NO_AGENT, 7, 23, 50), ("agent20", 1, 0, 5)]
    counts = arrange(rows, as_of=AS_OF, timezone="Europe/Berlin", top=15)
    assert counts.rows[:3] == ("agent20", "agent19", "agent18")
    assert counts.rows[14] == "agent06" and counts.rows[15:] == (OTHERS, NO_AGENT)
    assert counts.others == 5
    assert counts.cell(OTHERS, 9) == 1 + 2 + 3 + 4 + 5
    assert counts.cell("agent20", 0) == 5 and counts.cell("agent20", 9) == 20
    assert counts.cell(NO_AGENT, 23) == 50  # the biggest row, yet not ranked as an agent
    assert counts.by_weekday[6][23] == 50 and counts.by_weekday[0][0] == 5
    assert counts.total == sum(range(1, 21)) + 50 + 5


def test_ties_are_broken_by_name_and_no_others_row_without_a_rest() -> None:
    counts = arrange([("b", 1, 1, 2), ("a", 1, 2, 2), ("c", 1, 3, 1)], as_of=AS_OF, timezone="UTC", top=3)
    assert counts.rows == ("a", "b", "c") and counts.others == 0
