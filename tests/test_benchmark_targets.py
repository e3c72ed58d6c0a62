"""The targets' judgement (benchmarks/targets.py) on numbers worked by hand, and the table over several runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import run as bench
from benchmarks import targets


def side_run(floor: float, ingest: float, polars: float, incremental: float, rss: float = 1200.0) -> dict[str, Any]:
    """The parts of a side-by-side ``--json`` file the targets read."""
    return {
        "steps": {"floor": {"wall_s": floor}, "ingest": {"wall_s": ingest, "rss_mb": rss},
                  "pandas": {"wall_s": 25.0}, "polars": {"wall_s": polars}, "duckdb_sql": {"wall_s": 5.0},
                  "incremental": {"wall_s": incremental}, "metrics": {"wall_s": 0.8}},
        "checks": {"pandas_pyarrow": {"wall_s": 20.0}},
        "dashboard": {},
    }


def by_key(found: list[targets.Target]) -> dict[str, targets.Target]:
    return {t.key: t for t in found}


def test_one_side_by_side_run_is_judged_by_hand() -> None:
    found = by_key(targets.of_run(side_run(floor=4.0, ingest=10.0, polars=4.0, incremental=0.45))[0])
    assert found["ingest_vs_floor"].value == pytest.approx(2.5) and found["ingest_vs_floor"].ok  # at the limit
    assert found["pandas_vs_ingest"].shown == "2.50x" and found["pandas_vs_ingest"].ok is False  # 25 / 10 < 5
    assert found["pandas_pyarrow_vs_ingest"].shown == "2.00x" and found["pandas_pyarrow_vs_ingest"].ok
    assert found["polars_vs_ingest"].shown == "0.40x" and found["polars_vs_ingest"].ok is False
    assert found["duckdb_sql_vs_ingest"].shown == "0.50x" and found["duckdb_sql_vs_ingest"].ok is False
    assert found["incremental_s"].shown == "0.45 s" and found["incremental_s"].ok
    assert found["metrics_s"].ok and found["ingest_rss_3m"].ok
    slower = by_key(targets.of_run(side_run(floor=4.0, ingest=10.1, polars=11.0, incremental=0.51))[0])
    assert slower["ingest_vs_floor"].ok is False and slower["incremental_s"].ok is False
    assert slower["polars_vs_ingest"].ok  # 11 / 10.1: carepulse faster
    assert "resident_s" not in found  # a run from before the resident step: no verdict on it


def test_the_resident_hand_over_is_judged_against_the_same_limit_as_d() -> None:
    run = side_run(floor=4.0, ingest=10.0, polars=4.0, incremental=0.51)
    run["steps"]["resident"] = {"wall_s": 0.34}
    found = by_key(targets.of_run(run)[0])
    assert found["incremental_s"].ok is False and found["resident_s"].ok and found["resident_s"].shown == "0.34 s"
    run["steps"]["resident"] = {"wall_s": 0.52}
    assert by_key(targets.of_run(run)[0])["resident_s"].ok is False
    assert "resident_cli_s" not in by_key(targets.of_run(run)[0])  # a run from before the command handed over


def test_the_command_line_hand_over_is_judged_against_the_same_limit_as_d() -> None:
    run = side_run(floor=4.0, ingest=10.0, polars=4.0, incremental=0.62)
    run["steps"]["resident"] = {"wall_s": 0.30, "cli_wall_s": 0.38}
    found = by_key(targets.of_run(run)[0])
    assert found["incremental_s"].ok is False
    assert found["resident_cli_s"].ok and found["resident_cli_s"].shown == "0.38 s"
    run["steps"]["resident"] = {"wall_s": 0.30, "cli_wall_s": 0.51}
    assert by_key(targets.of_run(run)[0])["resident_cli_s"].ok is False


def size(tweets: int, incremental: float, metrics: float, rss: float, p95: float) -> dict[str, Any]:
    return {"tweets": tweets, "ingest": {"rss_mb": rss}, "incremental": {"wall_s": incremental},
            "metrics": {"wall_s": metrics},
            "dashboard": {"changes": [{"page": "pilot", "http": {"p95": p95}}, {"page": "team", "http": {"p95": 0.3}}]}}


def test_the_scale_curve_is_judged_at_its_largest_size() -> None:
    curve = {"sizes": [size(3_000_000, 0.5, 0.9, 1200, 0.3), size(10_000_000, 0.65, 1.9, 1600, 0.55)],
             "growth": [{"k": {"(e) metrics": 0.62}}]}
    found = by_key(targets.scale(curve))
    assert found["scale_rss"].what.endswith("(10 M)") and found["scale_rss"].ok is False  # 1,600 MB > 1,536 MB
    assert found["scale_incremental_growth"].shown == "1.30x" and found["scale_incremental_growth"].ok is False
    assert found["scale_metrics_k"].ok and found["scale_metrics_k"].shown == "k 0.62"
    assert found["incremental_s"].ok and found["metrics_s"].ok  # (d) and (e) at 3 M
    assert found["scale_pilot_p95"].ok is False and found["scale_team_p95"].ok
    assert found["scale_pilot_p95"].what == "pilot filter change p95 at 10 M"
    assert not any(key.endswith("_delta") for key in found)  # no dashboard after (d): no verdict on it
    curve["sizes"][-1]["dashboard_delta"] = {"changes": [{"page": "pilot", "http": {"p95": 0.45}}]}
    with_delta = by_key(targets.scale(curve))
    assert with_delta["scale_pilot_p95_delta"].ok and with_delta["scale_pilot_p95"].ok is False  # judged apart
    assert with_delta["scale_pilot_p95_delta"].what == "pilot filter change p95 at 10 M, a delta beside the base"
    small = {"sizes": [size(300_000, 0.3, 0.4, 300, 0.1)], "growth": []}
    assert "incremental_s" not in by_key(targets.scale(small))  # 3 M not measured: no absolute (d) verdict
    assert "scale_resident_growth" not in found and "resident_s" not in found  # not measured: no verdict
    curve["sizes"][0]["resident"], curve["sizes"][1]["resident"] = {"wall_s": 0.30}, {"wall_s": 0.35}
    resident = by_key(targets.scale(curve))
    assert resident["scale_resident_growth"].shown == "1.17x" and resident["scale_resident_growth"].ok
    assert resident["resident_s"].ok and resident["resident_s"].value == 0.30  # at 3 M
    curve["sizes"][1]["resident"] = {"wall_s": 0.37}
    assert by_key(targets.scale(curve))["scale_resident_growth"].ok is False  # 1.23x
    assert "scale_resident_cli_growth" not in by_key(targets.scale(curve))  # from before the command handed over
    curve["sizes"][0]["resident"]["cli_wall_s"], curve["sizes"][1]["resident"]["cli_wall_s"] = 0.40, 0.46
    handed = by_key(targets.scale(curve))
    assert handed["scale_resident_cli_growth"].shown == "1.15x" and handed["scale_resident_cli_growth"].ok
    assert handed["resident_cli_s"].value == 0.40  # at 3 M
    curve["sizes"][1]["resident"]["cli_wall_s"] = 0.49
    assert by_key(targets.scale(curve))["scale_resident_cli_growth"].ok is False  # 1.23x
    assert "scale_paired_resident_growth" not in by_key(targets.scale(curve))  # not measured in turns: no verdict
    curve["paired"] = {"tweets": [3_000_000, 10_000_000], "command": {"ratio": 1.25}, "resident": {"ratio": 1.1}}
    turns = by_key(targets.scale(curve))
    assert turns["scale_paired_command_growth"].ok is False and turns["scale_paired_command_growth"].shown == "1.25x"
    assert turns["scale_paired_resident_growth"].ok and turns["scale_paired_resident_growth"].what == (
        "(d) resident at 10 M / at 3 M, in turns")
    assert turns["scale_resident_cli_growth"].ok is False  # the curve's own ratio is still judged beside it


def test_over_runs_shows_every_value_the_range_and_how_often_each_target_held() -> None:
    runs = [targets.of_run(side_run(4.0, 10.0, 4.0, inc))[0] for inc in (0.45, 0.62, 0.48)]
    table = targets.over_runs(runs)
    row = next(line for line in table.splitlines() if line.startswith("| (d) incremental load"))
    assert "| 0.45 s, 0.62 s, 0.48 s | 0.45 s – 0.62 s | <= 0.50 s | 2 of 3 (**missed**) |" in row
    floor = next(line for line in table.splitlines() if line.startswith("| (c) / (a)"))
    assert floor.endswith("| 2.50x | <= 2.5x | 3 of 3 |")  # one value three times: no range
    assert table.startswith("Targets over 3 runs")


def test_summarize_mixes_side_by_side_and_scale_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    side = tmp_path / "side.json"
    side.write_text(json.dumps({"runs": [side_run(4.0, 10.0, 4.0, 0.45), side_run(4.0, 9.0, 4.0, 0.55)]}))
    curve = tmp_path / "curve.json"
    curve.write_text(json.dumps({"sizes": [size(3_000_000, 0.52, 0.9, 1200, 0.3)], "growth": []}))
    out = tmp_path / "R.md"
    out.write_text("# R\n\nprose\n", encoding="utf-8")
    assert bench.main(["--summarize", str(side), str(curve), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Targets over 3 runs" in printed
    row = next(line for line in printed.splitlines() if line.startswith("| (d) incremental load"))
    assert "0.45 s, 0.55 s, 0.52 s" in row and "1 of 3 (**missed**)" in row  # both files' (d), in file order
    ingest = next(line for line in printed.splitlines() if line.startswith("| (c) / (a)"))
    assert "2.50x, 2.25x" in ingest and "2 of 2" in ingest  # the curve has no floor: two runs judged
    written = out.read_text(encoding="utf-8")
    assert "prose" in written and bench.TARGETS_START in written and "0.45 s, 0.55 s, 0.52 s" in written


def test_summarize_names_a_bad_file_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert bench.main(["--summarize", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot summarize") and str(bad) in err and len(err.splitlines()) == 1


def test_runs_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--runs", "0"])
    assert "--runs must be at least 1" in capsys.readouterr().err
