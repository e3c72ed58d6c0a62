"""The scale curve (``benchmarks.run --sizes``) on two tiny sizes, so its code never rots: generation, ingest,
metrics, one dashboard filter change per page over HTTP, and the incremental load, for each size. No timing
is asserted beyond "positive": only that the table has a row per size and a growth row between them."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from benchmarks import generate, paired, scale, targets
from benchmarks import run as bench
from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_tweets
from carepulse.warehouse import Warehouse


@pytest.fixture(scope="module")
def curve(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, str]:
    work = tmp_path_factory.mktemp("scale")
    out = work / "RESULTS.md"
    out.write_text("# Results\n\n<!-- results:start -->\nmain table\n<!-- results:end -->\n\nprose\n", encoding="utf-8")
    raw = work / "scale.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert bench.main(["--sizes", "5k,2k", "--quick", "--workdir", str(work), "--out", str(out),
                           "--json", str(raw)]) == 0
    assert (work / "twcs_2k.csv").exists() and (work / "twcs_100_after_5k.csv").exists()  # kept for the next run
    return json.loads(raw.read_text(encoding="utf-8")), printed.getvalue(), out.read_text(encoding="utf-8")


def numbers(cell: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"-?[0-9][0-9,]*(?:\.[0-9]+)?", cell)]


def test_one_row_per_size_with_positive_numbers(curve: tuple[dict[str, Any], str, str]) -> None:
    result, text, _ = curve
    assert [s["tweets"] for s in result["sizes"]] == [2_000, 5_000]  # smallest first, whatever the order given
    rows = [line for line in text.splitlines() if re.match(r"\| [0-9,]+ \|", line)]
    assert [line.split("|")[1].strip() for line in rows] == ["2,000", "5,000"]
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == 15  # tweets, file, (c) x4, (d) x4 (wall, loader, resident, handed), (e), 3 pages, load
        for cell in cells[2:-1]:  # every time, memory and size is a positive number
            assert numbers(cell) and all(x > 0 for x in numbers(cell)), (cell, line)
    for size in result["sizes"]:
        assert size["ingest"]["loader_s"] > 0 and size["incremental"]["loader_s"] > 0
        assert size["ingest"]["rss_mb"] > 0 and size["ingest"]["db_mb"] > 0
        assert len(size["metrics"]["walls"]) == scale.METRIC_REPS
        assert len(size["resident"]["walls"]) == scale.RESIDENT_REPS  # the batch handed over, at every size
        assert "loaded 100 + duplicate 0" in size["resident"]["output"]  # the same work each time
        assert {c["page"] for c in size["dashboard"]["changes"]} == set(bench.PAGES)
        assert all(c["http"]["n"] == 1 and c["http"]["p50"] > 0 for c in size["dashboard"]["changes"])
        assert len(size["load_before"]) == 3 and len(size["load_after"]) == 3


def test_the_largest_size_is_read_again_with_the_delta_of_its_incremental_load(
        curve: tuple[dict[str, Any], str, str]) -> None:
    result, text, _ = curve
    small, large = result["sizes"]
    assert "dashboard_delta" not in small  # only the largest size: a second dashboard step per size costs minutes
    assert large["incremental"]["wrote_delta"] and large["dashboard_delta"]["delta_mb"] > 0
    assert {c["page"] for c in large["dashboard_delta"]["changes"]} == set(bench.PAGES)
    assert all(c["http"]["n"] == 1 and c["http"]["p95"] > 0 for c in large["dashboard_delta"]["changes"])
    line = next(line for line in text.splitlines() if line.startswith("At 5,000 tweets again after (d)"))
    assert all(f"{page} " in line for page in bench.PAGES) and "MB) beside the base" in line
    judged = [t for t in scale.scale_targets(result) if t.key.endswith("_p95_delta")]
    assert sorted(t.key for t in judged) == sorted(f"scale_{page}_p95_delta" for page in bench.PAGES)


def test_growth_between_consecutive_sizes(curve: tuple[dict[str, Any], str, str]) -> None:
    result, text, markdown = curve
    (step,) = result["growth"]
    assert (step["from"], step["to"], step["size_ratio"]) == ("2k", "5k", 2.5)
    assert set(step["ratios"]) >= {"(c) ingest", "(c) peak RSS", "(d) incremental", "(d) resident", "(e) metrics",
                                   "pilot filter p50", "team filter p50", "explore filter p50"}
    assert all(r > 0 for r in step["ratios"].values()) and all(k is not None for k in step["k"].values())
    row = next(line for line in text.splitlines() if line.startswith("| 2k → 5k |"))
    assert "| 2.50x |" in row and row.count("(k ") == len(step["ratios"])
    assert " cores (" in text and " GB RAM" in text  # the machine line
    # --out: the curve has its own block; the main results block and the prose stay
    assert "main table" in markdown and markdown.index("prose") < markdown.index(scale.SCALE_START)
    assert "| 2k → 5k |" in markdown.split(scale.SCALE_START, 1)[1]


def test_the_two_largest_sizes_load_in_turns(curve: tuple[dict[str, Any], str, str]) -> None:
    """benchmarks.paired: the same batches into both warehouses, smaller, larger, larger, smaller, from the command
    line and then handed to two resident loaders; the medians per size, their ratio, and a line under the curve."""
    result, text, _ = curve
    paired = result["paired"]
    assert paired["tweets"] == [2_000, 5_000] and paired["rounds"] == 1  # --quick: one ABBA round
    for way in ("command", "resident"):
        walls = paired[way]["walls"]
        assert [len(w) for w in walls] == [2, 2] and all(x > 0 for w in walls for x in w)
        medians = paired[way]["median_s"]
        assert paired[way]["ratio"] == pytest.approx(medians[1] / medians[0])
    line = next(line for line in text.splitlines() if line.startswith("(d) at 2,000 and 5,000 tweets in turns"))
    assert f"({paired['command']['ratio']:.2f}x)" in line and f"({paired['resident']['ratio']:.2f}x)" in line
    keys = {t.key for t in scale.scale_targets(result)}
    assert {"scale_paired_command_growth", "scale_paired_resident_growth"} <= keys


def test_turns_are_not_measured_when_the_batch_goes_into_the_base(tmp_path: Path) -> None:
    """A batch above a tenth of a small warehouse is folded into a new base, so the same load cannot be repeated:
    the step says so instead of timing loads of duplicates, and nothing is judged."""
    base, batch, db = tmp_path / "base.csv", tmp_path / "batch.csv", tmp_path / "wh.duckdb"
    assert generate.main(["--tweets", "300", "--out", str(base)]) == 0
    assert generate.main(["--tweets", "2000", "--id-offset", "300", "--out", str(batch)]) == 0
    ingest_tweets(Warehouse(db), "twcs", [base], Settings(db=db))
    result = paired.step_paired([(batch, db), (batch, db)], tmp_path, rounds=1)
    assert "folded into the base of wh.duckdb" in result["skipped"] and "command" not in result
    curve = {"sizes": [], "paired": {"tweets": [300, 2_000], **result}}
    assert "not measured, the batch was folded" in "\n".join(scale._paired(curve["paired"]))
    assert targets.paired_targets(curve["paired"]) == []


def test_turns_are_abba() -> None:
    assert paired.order(2) == [0, 1, 1, 0, 0, 1, 1, 0]  # a steady drift in time falls on both sizes alike


@pytest.mark.parametrize(("text", "tweets"), [
    ("300k", 300_000), ("0.3m", 300_000), ("1m", 1_000_000), ("10M", 10_000_000), ("1000000", 1_000_000),
    ("1_000_000", 1_000_000), (" 2k ", 2_000), ("1.5m", 1_500_000), ("0.0005m", 500),
])
def test_sizes_parse(text: str, tweets: int) -> None:
    assert scale.parse_size(text) == tweets


@pytest.mark.parametrize("text", ["", "k", "abc", "0", "-1m", "0.5", "1.0001k", "1g", "inf", "nan"])
def test_bad_sizes_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        scale.parse_size(text)


def test_size_lists_are_sorted_and_deduplicated() -> None:
    assert scale.parse_sizes("3m,0.3m,1m,300k") == [300_000, 1_000_000, 3_000_000]
    assert scale.parse_sizes("1m,") == [1_000_000]
    with pytest.raises(ValueError):
        scale.parse_sizes(" , ")


def test_the_file_names_are_those_of_the_side_by_side_run() -> None:
    """0.3m and 300k name the same kept file, so a second run reuses it."""
    assert [bench.size_label(n) for n in scale.parse_sizes("0.3m,1m,3m,10m")] == ["300k", "1m", "3m", "10m"]


def test_growth_exponent_and_its_words() -> None:
    assert scale.exponent(3.0, 3.0) == pytest.approx(1.0)
    assert scale.exponent(1.0, 3.0) == pytest.approx(0.0)
    assert scale.exponent(2.0, 1.0) is None and scale.exponent(0.0, 3.0) is None
    assert [scale.shape(k) for k in (-0.3, 0.1, 0.5, 1.0, 1.3, None)] == [
        "flat", "flat", "sub-linear", "linear", "super-linear", "–"]


def test_bad_sizes_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "lots"])
    assert "not a size" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "1m", "--tweets", "5"])
    assert "do not go together" in capsys.readouterr().err


def test_the_scale_module_leaves_the_main_table_alone(tmp_path: Path) -> None:
    out = tmp_path / "R.md"
    scale.write_block(out, "first\n")
    scale.write_block(out, "second\n")
    text = out.read_text(encoding="utf-8")
    assert "second" in text and "first" not in text and text.count(scale.SCALE_START) == 1


def test_one_curve_ends_with_its_targets(curve: tuple[dict[str, Any], str, str]) -> None:
    """The curve's own verdicts (benchmarks/targets.py): memory and filter changes at the largest size, (d)'s
    growth into it; its (e) exponent is the growth table's."""
    result, text, markdown = curve
    summary = text.split("Targets over 1 run", 1)[1]
    rss = next(line for line in summary.splitlines() if line.startswith("| (c) peak RSS at the largest size (5 k)"))
    assert f"{result['sizes'][-1]['ingest']['rss_mb']:,.0f} MB" in rss and rss.endswith("| 1 of 1 |")
    growth = next(line for line in summary.splitlines() if line.startswith("| (d) at 5 k / (d) at 2 k"))
    ratio = result["sizes"][1]["incremental"]["wall_s"] / result["sizes"][0]["incremental"]["wall_s"]
    assert f"| {ratio:.2f}x |" in growth
    k = result["growth"][0]["k"]["(e) metrics"]
    assert f"k {k:.2f}" in summary and "Targets over 1 run" in markdown.split(scale.SCALE_START, 1)[1]


def test_repeated_curve_runs_are_summed_up_per_target(tmp_path: Path) -> None:
    """``--runs 2``: two curves, each printed, then every target with both runs' values and how often it held."""
    raw = tmp_path / "runs.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert bench.main(["--sizes", "2k", "--quick", "--runs", "2", "--workdir", str(tmp_path),
                           "--json", str(raw)]) == 0
    runs = json.loads(raw.read_text(encoding="utf-8"))["runs"]
    assert len(runs) == 2 and all(r["sizes"][0]["tweets"] == 2_000 for r in runs)
    text = printed.getvalue()
    assert text.count("Scale curve:") == 2
    rss = next(line for line in text.split("Targets over 2 runs", 1)[1].splitlines()
               if line.startswith("| (c) peak RSS at the largest size (2 k)"))
    shown = [f"{r['sizes'][0]['ingest']['rss_mb']:,.0f} MB" for r in runs]
    assert f"| {shown[0]}, {shown[1]} |" in rss and rss.endswith("| 2 of 2 |")
