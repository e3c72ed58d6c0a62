"""The headline Kaplan-Meier median is computed in SQL (no per-thread Python on the fast path);
it must equal statsmodels' SurvfuncRight: the median, its log-log 95% interval, per group and in total."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from statsmodels.duration.survfunc import SurvfuncRight

from carepulse.core.config import Settings
from carepulse.metrics import engine, views
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import ThreadRow, insert_threads

AS_OF = datetime(2017, 11, 1, tzinfo=UTC)


def random_threads(seed: int, n: int, answered_share: float) -> list[ThreadRow]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        started = AS_OF - timedelta(seconds=rng.randint(60, 200_000))
        # whole minutes make ties between events, and between events and censoring times, common
        delay = timedelta(minutes=rng.randint(1, 600))
        answered = started + delay if rng.random() < answered_share and started + delay <= AS_OF else None
        rows.append(ThreadRow(f"t{i}", rng.choice(["A", "B"]), started, answered))
    return rows


def expected_km(rows: list[ThreadRow]) -> tuple[float | None, float | None, float | None]:
    times = [((r.answered or AS_OF) - r.started).total_seconds() for r in rows]
    events = [1.0 if r.answered else 0.0 for r in rows]
    sf = SurvfuncRight(times, events)
    median = float(sf.quantile(0.5))
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) once S reaches 0, inside statsmodels
        low, high = sf.quantile_ci(0.5)

    def clean(x: float) -> float | None:
        return None if math.isnan(x) else float(x)

    return clean(median), clean(low), clean(high)


@pytest.mark.parametrize(("seed", "n", "answered_share"), [(1, 40, 0.9), (2, 300, 0.7), (3, 120, 0.45),
                                                           (4, 15, 0.8), (5, 500, 0.95)])
def test_sql_kaplan_meier_equals_statsmodels(tmp_path: Path, seed: int, n: int, answered_share: float) -> None:
    rows = random_threads(seed, n, answered_share)
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    insert_threads(warehouse, rows)
    result = engine.compute(["first_response_km_median_s"], by="account", db=warehouse.reader(),
                            settings=settings, as_of=AS_OF, ci=True)
    cells = {"total": result.total["first_response_km_median_s"]}
    cells.update({k: v["first_response_km_median_s"] for k, v in result.groups.items()})
    for key, cell in cells.items():
        subset = rows if key == "total" else [r for r in rows if r.account == key]
        median, low, high = expected_km(subset)
        assert cell.n == len(subset)
        assert cell.value == median, key
        assert cell.ci_low == low, key
        assert cell.ci_high == high, key


def test_km_curve_matches_the_headline(tmp_path: Path) -> None:
    rows = random_threads(7, 200, 0.8)
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    insert_threads(warehouse, rows)
    curve = views.km_curve(db=warehouse.reader(), settings=settings, as_of=AS_OF)
    headline = engine.compute(["first_response_km_median_s"], db=warehouse.reader(), settings=settings,
                              as_of=AS_OF, ci=True).total["first_response_km_median_s"]
    assert curve.attrs["median_s"] == headline.value
    assert curve.attrs["median_ci"] == (headline.ci_low, headline.ci_high)
    shares = curve["share_answered"].tolist()
    assert shares == sorted(shares) and shares[0] > 0 and shares[-1] <= 1
    assert (curve["ci_low"] <= curve["share_answered"] + 1e-12).all()
    assert (curve["share_answered"] <= curve["ci_high"] + 1e-12).all()


def test_km_median_not_reached_says_so(tmp_path: Path) -> None:
    """Three of four threads still wait: S never falls below 1/2, so there is no median."""
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = Warehouse(settings.db)
    start = AS_OF - timedelta(hours=5)
    insert_threads(warehouse, [ThreadRow("a", "A", start, start + timedelta(minutes=5))]
                   + [ThreadRow(f"w{i}", "A", start, None) for i in range(3)])
    cell = engine.compute(["first_response_km_median_s", "first_response_median_s"], db=warehouse.reader(),
                          settings=settings, as_of=AS_OF).total
    assert cell["first_response_km_median_s"].value is None
    note = cell["first_response_km_median_s"].note
    assert note is not None and note.startswith("not reached")
    assert cell["first_response_median_s"].value == 300.0
