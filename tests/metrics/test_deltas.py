"""Period deltas: the tests' p-values worked by hand, Holm's adjustment, directions, and the engine path."""

import math
from datetime import date

import pytest

from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_tweets
from carepulse.metrics import deltas, engine
from carepulse.metrics.cells import Cell
from carepulse.metrics.registry import resolve
from carepulse.warehouse import Reader, Warehouse


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Reader, Settings]:
    from tests.conftest import SHARED_SAMPLE

    path = tmp_path_factory.mktemp("deltas") / "wh.duckdb"
    settings = Settings(db=path)
    warehouse = Warehouse(path)
    ingest_tweets(warehouse, "twcs", [SHARED_SAMPLE], settings)
    return warehouse.reader(), settings


def test_two_proportions_by_hand() -> None:
    # 50/100 vs 30/100: pooled 0.4, se = sqrt(0.4 * 0.6 * (1/100 + 1/100)) = 0.069282, z = 2.88675
    assert deltas.proportions_p(50, 100, 30, 100) == pytest.approx(0.0038924, abs=1e-6)
    assert deltas.proportions_p(5, 10, 5, 10) == pytest.approx(1.0)
    assert deltas.proportions_p(0, 0, 1, 2) is None


def test_poisson_rates_exact() -> None:
    # equal lengths: given 40 events, the first period's count is Binomial(40, 1/2); two-sided
    tail = sum(math.comb(40, k) for k in range(30, 41)) / 2**40
    assert deltas.rates_p(30, 7, 10, 7) == pytest.approx(2 * tail, rel=1e-9)
    # a period twice as long with twice the events is no change at all
    assert deltas.rates_p(20, 14, 10, 7) == pytest.approx(1.0)
    assert deltas.rates_p(0, 7, 0, 7) is None


def test_intervals_test() -> None:
    z95 = 1.959963984540054  # half-width z95: standard error 1 on each side, so se of the difference sqrt(2)
    a = Cell(10.0, 10.0 - z95, 10.0 + z95)
    b = Cell(7.0, 7.0 - z95, 7.0 + z95)
    assert deltas.intervals_p(a, b) == pytest.approx(math.erfc(1.5), rel=1e-9)  # z = 3 / sqrt(2)
    assert deltas.intervals_p(Cell(1.0), b) is None


def test_holm() -> None:
    assert deltas.holm([0.01, 0.04, None, 0.03]) == pytest.approx([0.03, 0.06, None, 0.06])


def test_directions_and_holm_in_compare() -> None:
    chosen = resolve(["response_rate", "first_response_median_s", "threads"])
    current = {"response_rate": Cell(0.9, n=1000), "first_response_median_s": Cell(600.0, 500.0, 700.0),
               "threads": Cell(1000, n=1000)}
    previous = {"response_rate": Cell(0.8, n=1000), "first_response_median_s": Cell(900.0, 800.0, 1000.0),
                "threads": Cell(1000, n=1000)}
    out = deltas.compare(chosen, current, previous, (28, 28))
    assert out["response_rate"].better is True and out["response_rate"].beyond_noise is True
    assert out["response_rate"].change == pytest.approx(0.1)
    assert out["first_response_median_s"].better is True  # lower is better for a waiting time
    assert out["threads"].change == 0 and out["threads"].better is None and out["threads"].beyond_noise is False
    raw = [deltas.proportions_p(900, 1000, 800, 1000), deltas.intervals_p(current["first_response_median_s"],
                                                                        previous["first_response_median_s"]),
           deltas.rates_p(1000, 28, 1000, 28)]
    assert [out[m.name].p for m in chosen] == pytest.approx(deltas.holm(raw))


def test_compare_periods_on_a_warehouse(sample_db: tuple[Reader, Settings]) -> None:
    db, settings = sample_db
    current = engine.Filters(date_from=date(2017, 10, 1), date_to=date(2017, 12, 31))
    previous = engine.Filters(date_from=date(2017, 7, 1), date_to=date(2017, 9, 30))
    out = deltas.compare_periods(["threads", "response_rate"], current, previous, db=db, settings=settings)
    now = engine.compute(["threads"], None, current, db=db, settings=settings)
    assert out["threads"].current == now.total["threads"].value
    with pytest.raises(ValueError):
        deltas.compare_periods(["threads"], engine.Filters(), previous, db=db, settings=settings)
