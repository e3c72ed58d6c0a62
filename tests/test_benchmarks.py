"""A tiny run of the benchmark code, so it never rots. No timing is asserted: only that every step runs
(generator, floor, the pandas, Polars and plain-SQL pipelines, ingest, incremental load, metrics, the
dashboard over HTTP) and that every peer pipeline and carepulse give the same numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import duckdb_pipeline, pandas_pipeline, polars_pipeline
from benchmarks import run as bench


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    work = tmp_path_factory.mktemp("bench")
    out = work / "RESULTS.md"
    out.write_text("# Results\n\nprose before\n\n<!-- results:start -->\nold\n<!-- results:end -->\n\nprose after\n",
                   encoding="utf-8")
    raw = work / "results.json"
    assert bench.main(["--quick", "--workdir", str(work), "--out", str(out), "--json", str(raw)]) == 0
    return json.loads(raw.read_text(encoding="utf-8")), out.read_text(encoding="utf-8"), work


def test_every_step_runs_and_the_table_is_written(quick: tuple[dict, str, Path]) -> None:
    results, markdown, _ = quick
    assert set(results["steps"]) == {"floor", "pandas", "polars", "duckdb_sql", "ingest", "incremental", "metrics",
                                     "resident"}
    for step in results["steps"].values():
        assert step["wall_s"] > 0 and step["rss_mb"] > 0
    assert results["steps"]["floor"]["rows"] == results["tweets"] == 3_000
    assert results["steps"]["incremental"]["loader_s"] is not None
    board = results["dashboard"]
    assert board["first_page"]["assets"] > 0 and board["rss_mb"] > 0
    assert {c["page"] for c in board["summary"]["callbacks"]} == set(bench.PAGES)
    assert all(c["raw"]["n"] == 2 for c in board["summary"]["callbacks"])
    assert markdown.startswith("# Results\n\nprose before") and markdown.rstrip().endswith("prose after")
    assert "\nold\n" not in markdown and "| (c) | `carepulse ingest twcs`, complete |" in markdown
    assert "Headline ratios and targets" in markdown
    assert "| (b'') | Polars pipeline" in markdown and "| (a') | plain DuckDB SQL" in markdown
    assert "(b'') / (c): Polars against ingest" in markdown
    assert "(a') / (c): plain DuckDB SQL against ingest" in markdown


def test_the_batch_is_handed_to_the_resident_loader(quick: tuple[dict, str, Path]) -> None:
    """Each hand-over loads the whole batch anew (the delta of the one before was taken away), through a running
    ``ingest --watch``, and the table and the targets show it beside (d)."""
    results, markdown, _ = quick
    resident = results["steps"]["resident"]
    assert len(resident["walls"]) == 2 and resident["wall_s"] > resident["poll_s"] / 2
    assert "read 100 = loaded 100 + duplicate 0 + quarantined 0" in resident["output"]
    assert ": loaded in " in resident["output"] and "/loaded/batch_1.csv" in resident["output"]
    assert "| (d) | the same batch handed to the resident loader" in markdown
    assert "| (d) handed to the resident loader (`ingest --watch`), wall |" in markdown
    # the same batch from the command line, handed to that loader: the command printed the loader's report
    assert len(resident["cli_walls"]) == 2 and resident["cli_wall_s"] > 0
    assert "read 100 = loaded 100 + duplicate 0 + quarantined 0" in resident["cli_output"]
    assert "handed to the resident loader (PID " in resident["cli_output"]
    assert "| (d) | the same batch from the command line (`carepulse ingest twcs FILE`)" in markdown
    assert "| (d) from the command line, handed to the resident loader, wall |" in markdown


@pytest.mark.parametrize("peer", ["pandas", "polars", "duckdb_sql"])
def test_peer_pipeline_gives_carepulse_numbers(quick: tuple[dict, str, Path], peer: str) -> None:
    results, markdown, _ = quick
    theirs = results["steps"][peer]["result"]
    ours = results["steps"]["metrics"]["result"]
    assert (theirs["threads"], theirs["answered"], theirs["median_s"]) == (
        ours["total"]["threads"], ours["total"]["answered_threads"], ours["total"]["first_response_median_s"])
    assert theirs["threads"] > 100 and theirs["answered"] > 50
    per_account = {k: (v["threads"], v["answered_threads"], v["first_response_median_s"])
                   for k, v in ours["groups"].items() if v["threads"]}
    assert per_account == {k: (v["threads"], v["answered"], v["median_s"]) for k, v in theirs["by_account"].items()}
    assert results["checks"]["same_numbers" if peer == "pandas" else f"same_numbers_{peer}"]["all"] is True
    assert "**NO**" not in markdown


@pytest.mark.parametrize("peer", [pandas_pipeline, polars_pipeline, duckdb_pipeline], ids=lambda m: m.__name__)
def test_peer_pipeline_on_the_public_sample(shared_sample: Path, peer: Any) -> None:
    """The issue's figures for the TWCS sample: 281 threads, 263 answered, median 740 s; the peers agree per account."""
    result = peer.run(shared_sample)
    assert (result.threads, result.answered, result.median_s) == (281, 263, 740.0)
    assert result.by_account == pandas_pipeline.run(shared_sample).by_account


def test_peer_step_alone_checks_against_a_warehouse(quick: tuple[dict, str, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``--step polars --file CSV --db WAREHOUSE``: one peer, timed, checked against carepulse metrics."""
    results, _, work = quick
    csv = work / "twcs_3k.csv"
    db = work / "peer.duckdb"
    assert bench.main(["--step", "polars", "--file", str(csv)]) == 0
    assert f"{results['steps']['polars']['result']['threads']:,} threads" in capsys.readouterr().out
    bench.step_ingest(csv, db)
    assert bench.main(["--step", "duckdb_sql", "--file", str(csv), "--db", str(db)]) == 0
    assert "in total and per account: yes" in capsys.readouterr().out


def test_output_strings_become_request_outputs() -> None:
    assert bench.split_output("pilot-volume.figure") == {"id": "pilot-volume", "property": "figure"}
    assert bench.split_output("url.search@abc") == {"id": "url", "property": "search@abc"}
    assert bench.split_output("..a.children...b.figure..") == [{"id": "a", "property": "children"},
                                                                {"id": "b", "property": "figure"}]
    assert bench.percentiles([1.0, 2.0, 3.0]) == {"p50": 2.0, "p95": 2.9, "n": 3}


def test_polars_peer_stores_the_links_and_threads_carepulse_computes(shared_sample: Path, settings: Any,
                                                                     tmp_path: Path) -> None:
    """``--store DB``: the peer keeps what it computed, and it is what carepulse stores for the same file: every
    tweet with the same parent and conversation, the same threads with the same first responses and accounts."""
    import duckdb

    from carepulse.etl.loader import ingest_tweets
    from carepulse.warehouse import Warehouse

    stored = tmp_path / "polars.duckdb"
    result = polars_pipeline.run(shared_sample, store_in=stored)
    assert result.seconds["store"] > 0
    ingest_tweets(Warehouse(settings.db), "twcs", [shared_sample], settings)
    con = duckdb.connect()
    con.execute(f"ATTACH '{stored}' AS peer (READ_ONLY); ATTACH '{settings.db}' AS ours (READ_ONLY)")
    links = "SELECT tweet_id, parent_id, conversation_id, is_brand, text FROM {}.tweets ORDER BY tweet_id"
    theirs_tweets = con.execute(links.format("peer")).fetchall()
    assert len(theirs_tweets) == result.tweets == 1_000
    assert theirs_tweets == con.execute(links.format("ours")).fetchall()
    threads = ("SELECT conversation_id, {customer}, started_at, {response}, account FROM {db}.threads "
               "ORDER BY conversation_id, started_at, account")
    theirs = con.execute(threads.format(customer="author_id", response="first_response_s", db="peer")).fetchall()
    ours = con.execute(threads.format(customer="customer_id", response="first_response_seconds", db="ours")).fetchall()
    assert len(theirs) == result.threads == 281 and theirs == ours
