"""Adding a SQL metric is one declaration in one file (the worked example of docs/architecture.md).

The example declares "Answered within 15 minutes" the way `carepulse/metrics/registry.py` declares its
metrics, registers it, and checks that every consumer picks it up without another line of code: the CLI's
list, ``--explain``, the generated docs page, Explore's metric picker, and the engine's numbers (checked
against a plain SQL count on the public sample).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from carepulse.cli import main
from carepulse.metrics import docs, registry
from carepulse.metrics.registry import Metric

# The worked example, exactly as docs/architecture.md shows it.
EXAMPLE = Metric(
    "answered_15m_share", "Answered within 15 minutes",
    "Threads answered within 15 minutes of the customer's first tweet / all threads; waiting threads count "
    "as not answered. 95% Wilson interval.", "share", "ratio", "threads",
    numerator="count(*) FILTER (WHERE @answered AND frs <= 900)", denominator="count(*)",
    ci="wilson", higher_is_better=True)


@pytest.fixture
def with_example(monkeypatch: pytest.MonkeyPatch) -> Metric:
    checked = registry._check((*registry.METRICS, EXAMPLE))
    monkeypatch.setattr(registry, "REGISTRY", checked)
    return checked[EXAMPLE.name]


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import SHARED_SAMPLE

    db = tmp_path_factory.mktemp("example") / "sample.duckdb"
    assert main(["ingest", "twcs", str(SHARED_SAMPLE), "--db", str(db)]) == 0
    return db


def test_the_example_is_listed_explained_documented_and_offered(with_example: Metric, sample_db: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["metrics", "--list"]) == 0
    assert "answered_15m_share" in capsys.readouterr().out
    assert main(["metrics", "--db", str(sample_db), "--explain", "answered_15m_share"]) == 0
    explained = capsys.readouterr().out
    assert "Answered within 15 minutes" in explained and "<= 900" in explained
    page = docs.render()
    assert "### `answered_15m_share`\n**Answered within 15 minutes.**" in page
    import dash

    dash.Dash(__name__, use_pages=True, pages_folder="")
    from carepulse.dashboard.pages import explore

    assert "answered_15m_share" in {o["value"] for o in explore.metric_options()}


def test_the_example_computes_the_number_a_plain_count_gives(with_example: Metric, sample_db: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["metrics", "--db", str(sample_db), "--metrics", "answered_15m_share,threads",
                 "--format", "json"]) == 0
    total = json.loads(capsys.readouterr().out)["total"]
    con = duckdb.connect(str(sample_db), read_only=True)
    within, threads = con.execute(
        "SELECT count(*) FILTER (WHERE first_response_seconds <= 900), count(*) FROM threads").fetchall()[0]
    con.close()
    assert total["threads"] == threads == 281
    assert total["answered_15m_share"] == pytest.approx(within / threads)
    assert total["answered_15m_share_ci_low"] < total["answered_15m_share"] < total["answered_15m_share_ci_high"]
