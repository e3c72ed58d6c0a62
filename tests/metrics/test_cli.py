"""``carepulse metrics`` end to end: the acceptance numbers on the real sample, the three formats."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from carepulse.cli import main
from tests.metrics.fixtures import FIXTURE_A
from tests.twcs_helpers import at, row, write_twcs


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import SHARED_SAMPLE

    db = tmp_path_factory.mktemp("cli") / "sample.duckdb"
    assert main(["ingest", "twcs", str(SHARED_SAMPLE), "--db", str(db)]) == 0
    return db


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["metrics", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_acceptance_json_by_account(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", str(sample_db), "--by", "account", "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert set(result) >= {"as_of", "filters", "total", "groups"}
    total = result["total"]
    assert (total["threads"], total["answered_threads"], total["first_response_median_s"]) == (281, 263, 740)
    assert total["tweets"] == 1000 and total["customer_tweets"] + total["brand_tweets"] == 1000
    for key in ("response_rate", "first_response_p90_s", "first_response_km_median_s", "reply_time_median_s",
                "sla_met_share", "resolution_rate", "csat_mean", "csat_top2_share", "nps", "cost_per_case",
                "cost_per_resolved_case", "pilot_net_benefit_eur"):
        assert key in total
    assert total["resolution_rate"] is None and total["csat_mean"] is None  # no CRM data: null, not 0
    assert len(result["groups"]) == 43
    assert sum(g["threads"] for g in result["groups"].values()) == 281
    assert result["groups"]["AppleSupport"]["threads"] > 0
    assert result["as_of"] == "2017-12-02T18:06:03Z"
    assert result["filters"] == {}


def test_filters_and_as_of(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", str(sample_db), "--account", "@applesupport", "--format", "json",
                       "--from", "2017-10-01", "--to", "2017-12-31", "--as-of", "2017-12-31T00:00:00Z")
    assert code == 0
    result = json.loads(out)
    assert result["filters"] == {"date_from": "2017-10-01", "date_to": "2017-12-31", "account": "applesupport"}
    code, out2, _ = run(capsys, "--db", str(sample_db), "--by", "account", "--format", "json")
    apple = json.loads(out2)["groups"]["AppleSupport"]
    assert result["total"]["threads"] == apple["threads"]
    assert result["as_of"] == "2017-12-31T00:00:00Z"


def test_table_is_for_people(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", str(sample_db))
    assert code == 0
    assert "First response, median" in out and "12 min" in out
    assert "Response rate" in out and "93.6%" in out
    assert "95% interval" in out and "n = 281" in out
    assert "Cost assumptions" in out


def test_csv_neutralises_formula_cells(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        row(1, "c1", False, at("09:00"), "@=HYPERLINK help"),
        row(2, "=HYPERLINK", True, at("09:05"), "@c1 hi ^AB", 1),
        row(3, "c2", False, at("10:00"), "@-Brand help"),
        row(4, "-Brand", True, at("10:10"), "@c2 hi", 3),
    ]
    db = tmp_path / "wh.duckdb"
    assert main(["ingest", "twcs", str(write_twcs(tmp_path / "f.csv", rows)), "--db", str(db)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "--db", str(db), "--by", "account", "--format", "csv", "--metrics",
                       "threads,first_response_median_s")
    assert code == 0
    table = list(csv.reader(io.StringIO(out)))
    assert table[0][:3] == ["account", "threads", "first_response_median_s"]
    assert table[1][:3] == ["(total)", "2", "450.0"]
    keys = [r[0] for r in table[2:]]
    assert keys == ["'-Brand", "'=HYPERLINK"]


def test_all_metrics_and_verdicts_on_fixture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "wh.duckdb"
    assert main(["ingest", "twcs", str(write_twcs(tmp_path / "a.csv", FIXTURE_A)), "--db", str(db)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "--db", str(db), "--all", "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert result["total"]["first_response_bh_median_s"] == 1800
    assert any(v.startswith("CSAT: Twitter minus hotline: not enough data") for v in result["verdicts"])
    code, out, _ = run(capsys, "--db", str(db), "--all")
    assert "In words:" in out


def test_list_and_explain(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--list")
    assert code == 0 and "first_response_km_median_s" in out and "threads_forecast_4w" in out
    code, out, _ = run(capsys, "--db", str(sample_db), "--explain", "first_response_median_s", "--by", "account")
    assert code == 0
    assert "quantile_cont(frs, [0.5])" in out and "Unanswered threads are left out" in out
    # the statement is the syntax tree, pretty-printed: one clause per line
    assert re.search(r"\n\s*GROUP BY\n\s+b\.g\b", out) and re.search(r"\n\s*UNION ALL\n", out)


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "31.10.2017"], "--from: expected a date"),
    (["--metrics", "threads,nope"], "unknown metric(s): nope"),
    (["--as-of", "yesterday"], "--as-of: expected an ISO timestamp"),
])
def test_bad_input_is_one_clear_line(sample_db: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                     message: str) -> None:
    code, out, err = run(capsys, "--db", str(sample_db), *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_missing_warehouse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", str(tmp_path / "nope.duckdb"))
    assert code == 2 and "no warehouse at" in err


@pytest.mark.parametrize(("args", "message"), [
    (("--to", "9999-12-31"), "error: --to: 9999-12-31 is outside 1970 to 2100"),
    (("--from", "0001-01-01"), "error: --from: 0001-01-01 is outside 1970 to 2100"),
    (("--from", "2026-01-01junk"), "error: --from: expected a date like 2017-10-31, got '2026-01-01junk'"),
    (("--as-of", "junk"), "error: --as-of: expected an ISO timestamp like 2017-11-30T18:00, got 'junk'"),
])
def test_bad_arguments_are_one_error_line_in_a_real_process(sample_db: Path, args: tuple[str, ...],
                                                            message: str) -> None:
    """In a real process: an argument error raised while the snapshot attaches in its thread once
    aborted the interpreter ("terminate called ...") instead of printing the line."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "carepulse.cli", "metrics", "--db", str(sample_db), *args],
                          capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stderr, done.stdout) == (2, message + "\n", "")


def test_an_agent_filter_gives_the_numbers_of_that_agents_group(sample_db: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`--agent X` selects what `--by agent` counts in X's group: one definition of an agent, two ways in."""
    code, out, _ = run(capsys, "--db", str(sample_db), "--by", "agent", "--format", "json")
    assert code == 0
    groups = json.loads(out)["groups"]
    agent = max((g for g in groups if g != "(none)"), key=lambda g: groups[g].get("threads") or 0)
    code, out, _ = run(capsys, "--db", str(sample_db), "--agent", agent, "--format", "json")
    assert code == 0
    total = json.loads(out)["total"]
    for name in ("threads", "answered_threads", "first_response_median_s", "sla_met_share", "brand_tweets"):
        assert total[name] == groups[agent][name], name
