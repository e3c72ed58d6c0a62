"""Benchmarks at TWCS scale, in one run on one generated file, side by side with the floor and three peers.

    python -m benchmarks.run [--tweets 3000000] [--out benchmarks/RESULTS.md] [--quick]
    python -m benchmarks.run --sizes 0.3m,1m,3m[,10m]    # the scale curve instead (:mod:`benchmarks.scale`)
    python -m benchmarks.run --runs 3 [--sizes ...]      # three runs, then the targets over them
    python -m benchmarks.run --summarize A.json B.json   # the targets over earlier runs' --json files

Steps (each a separate process, timed from outside: wall time, and peak RSS from ``wait4``):

a. the floor: DuckDB ``read_csv`` of the file into a table with parsed timestamps, nothing else, in a
   fresh file database, checkpoint included;
b. the usual way: the vectorised pandas pipeline (:mod:`benchmarks.pandas_pipeline`) doing the same job;
b''. the same job in Polars, lazy and multi-threaded (:mod:`benchmarks.polars_pipeline`);
a'. the same job as plain DuckDB SQL, recursive CTE for the roots (:mod:`benchmarks.duckdb_pipeline`);
c. ``carepulse ingest twcs`` of the file into a fresh warehouse, complete;
d. an incremental load of 10 k new tweets (``--id-offset``: their orphans reply to earlier tweets) into
   that warehouse (wall time, and the loader's own seconds); then the same batch handed to the resident
   loader, a running ``carepulse ingest twcs --watch DIR`` (:mod:`benchmarks.resident`);
e. ``carepulse metrics --by account --format json`` (median of 5, Python start-up included), then
   ``carepulse report --period LAST-4-WEEKS --format pdf`` (3 runs, :mod:`benchmarks.report_bench`; alone
   against an existing warehouse: ``--step report --db PATH``);
f. the dashboard over HTTP against ``carepulse serve``: the first page load (the HTML and every asset,
   ``_dash-layout``, ``_dash-dependencies``, then the routing and page callbacks a browser fires), and
   filter changes replayed as the browser sends them (``/_dash-update-component`` with the payloads
   built from ``_dash-dependencies`` and the store the page renders), p50 and p95 over ``--reps``
   changes, each next to the raw time of the metric calls behind it (the same functions called directly
   against the warehouse, uncached).

Each peer (b, b'', a') is checked to give carepulse's threads, answered threads and median first
response, in total and per account. ``--step pandas|polars|duckdb_sql --file CSV [--db WAREHOUSE]``
runs one peer alone (and checks it against ``carepulse metrics`` on that warehouse when given).

Every filter change picks another brand account, so no answer comes from the dashboard's cache.
Step d runs last, because it changes the warehouse. ``--quick`` runs everything on a tiny file (the
test suite does, so this code never rots). The table goes to stdout and, with ``--out``, between the
``results`` markers of that Markdown file (the prose around them is kept); ``--json`` keeps the raw
numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.dashboard import PAGES as PAGES  # re-exported: the pages replayed, and the two helpers the tests use
from benchmarks.dashboard import split_output as split_output
from benchmarks.dashboard import step_dashboard, summarise_dashboard
from benchmarks.processes import ROOT, carepulse, checked, python, run_child
from benchmarks.report import (
    Results,
    dashboard_callback_table,
    dashboard_ratios,
    dashboard_rows,
    headline_ratios,
    machine,
    ok_mark,
    same_numbers,
    table,
    write_markdown,
)
from benchmarks.report import percentiles as percentiles
from benchmarks.report_bench import report_line, step_report
from benchmarks.resident import REPS as RESIDENT_REPS
from benchmarks.resident import step_handed
from benchmarks.targets import from_files, over_runs, side_by_side

TARGETS_START = "<!-- targets:start -->"  # the block --summarize rewrites
TARGETS_END = "<!-- targets:end -->"

TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"


# ---- steps ---------------------------------------------------------------------------------------

def generate(tweets: int, out: Path, id_offset: int = 0) -> None:
    if out.exists():
        return
    tmp = out.with_name(out.name + ".part")
    checked(run_child([*python(), "-m", "benchmarks.generate", "--tweets", str(tweets), "--id-offset", str(id_offset),
                       "--out", str(tmp)]), "generating " + out.name)
    tmp.replace(out)


def floor_step(csv: Path, db: Path) -> dict[str, Any]:
    """(a) in this process (run as a child): read_csv into a table, timestamps parsed, checkpointed."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(str(db))
    path = str(csv).replace("'", "''")
    con.execute(f"""
        CREATE TABLE tweets AS
        SELECT tweet_id, author_id, inbound, strptime(created_at, '{TWITTER_TIME}') AS created_at, text,
               response_tweet_id, in_response_to_tweet_id
        FROM read_csv('{path}', header = true, columns = {{
            'tweet_id': 'BIGINT', 'author_id': 'VARCHAR', 'inbound': 'BOOLEAN', 'created_at': 'VARCHAR',
            'text': 'VARCHAR', 'response_tweet_id': 'VARCHAR', 'in_response_to_tweet_id': 'BIGINT'}})
    """)
    con.execute("CHECKPOINT")
    rows = con.execute("SELECT count(*) FROM tweets").fetchone()
    con.close()
    return {"rows": rows[0] if rows else 0, "seconds": time.perf_counter() - started}


def _remove_db(db: Path) -> None:
    for path in (db, Path(f"{db}.wal"), Path(f"{db}.lock")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def loader_seconds(stdout: str) -> float | None:
    found = re.search(r"rebuilt in ([0-9.]+) s", stdout)
    return float(found.group(1)) if found else None


def step_floor(csv: Path, work: Path) -> dict[str, Any]:
    db = work / "floor.duckdb"
    _remove_db(db)
    child = checked(run_child([*python(), "-m", "benchmarks.run", "--step", "floor", "--file", str(csv),
                               "--db", str(db)]), "the floor")
    inner = json.loads(child.stdout.strip().splitlines()[-1])
    _remove_db(db)
    return {"wall_s": child.wall_s, "rss_mb": child.peak_rss_mb, "rows": inner["rows"], "inner_s": inner["seconds"]}


def step_peer(module: str, csv: Path, what: str, *options: str) -> dict[str, Any]:
    """A peer pipeline in its own process: wall time, peak RSS and its JSON result (the same fields for all)."""
    child = checked(run_child([*python(), "-m", module, str(csv), "--json", *options]), what)
    inner = json.loads(child.stdout.strip().splitlines()[-1])
    return {"wall_s": child.wall_s, "rss_mb": child.peak_rss_mb, "result": inner}


def step_pandas(csv: Path, engine: str = "c") -> dict[str, Any]:
    """(b), or (b') with ``engine="pyarrow"``."""
    return step_peer("benchmarks.pandas_pipeline", csv, "pandas", "--engine", engine)


def step_polars(csv: Path) -> dict[str, Any]:
    """(b''): the Polars pipeline."""
    return step_peer("benchmarks.polars_pipeline", csv, "polars")


def step_duckdb_sql(csv: Path) -> dict[str, Any]:
    """(a'): the plain DuckDB SQL pipeline."""
    return step_peer("benchmarks.duckdb_pipeline", csv, "duckdb sql")


PEERS = {"pandas": ("(b)", step_pandas), "polars": ("(b'')", step_polars), "duckdb_sql": ("(a')", step_duckdb_sql)}


def step_ingest(csv: Path, db: Path) -> dict[str, Any]:
    _remove_db(db)
    child = checked(run_child([*carepulse(), "ingest", "twcs", str(csv), "--db", str(db)]), "carepulse ingest")
    return {"wall_s": child.wall_s, "rss_mb": child.peak_rss_mb, "loader_s": loader_seconds(child.stdout),
            "db_mb": db.stat().st_size / 2**20, "output": child.stdout.strip()}


INCREMENTAL_REPS = 3


def step_incremental(csv: Path, db: Path, reps: int = INCREMENTAL_REPS) -> dict[str, Any]:
    """The batch into the warehouse, median of ``reps`` loads of the same batch.

    A small load writes only the delta beside the immutable base (docs/warehouse.md), so removing the delta
    it published puts the warehouse back exactly as it was: each repetition does the same work. A load that
    rewrote the base (a batch too big for the delta, or a compaction) cannot be taken back: one sample then.
    """
    delta = db.with_name(db.name + ".delta")
    had_delta = delta.exists()
    runs = []
    for _ in range(reps):
        child = checked(run_child([*carepulse(), "ingest", "twcs", str(csv), "--db", str(db)]), "incremental ingest")
        runs.append(child)
        if had_delta or not delta.exists() or len(runs) == reps:
            break
        delta.unlink()
    middle = sorted(runs, key=lambda c: c.wall_s)[len(runs) // 2]
    return {"wall_s": middle.wall_s, "walls": [c.wall_s for c in runs], "rss_mb": max(c.peak_rss_mb for c in runs),
            "loader_s": loader_seconds(middle.stdout), "wrote_delta": delta.exists(), "output": middle.stdout.strip()}


def step_metrics(db: Path, reps: int) -> dict[str, Any]:
    walls, rss, first = [], [], None
    for _ in range(reps):
        child = checked(run_child([*carepulse(), "metrics", "--by", "account", "--format", "json", "--db", str(db)]),
                        "carepulse metrics")
        walls.append(child.wall_s)
        rss.append(child.peak_rss_mb)
        first = first or json.loads(child.stdout)
    assert first is not None
    return {"wall_s": statistics.median(walls), "walls": walls, "rss_mb": max(rss), "result": first}


# ---- main --------------------------------------------------------------------------------------------

@contextlib.contextmanager
def workdir(path: Path | None, quick: bool) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
    elif quick:
        with tempfile.TemporaryDirectory(prefix="carepulse-bench-") as tmp:
            yield Path(tmp)
    else:
        default = ROOT / "data" / "bench"
        default.mkdir(parents=True, exist_ok=True)
        yield default


def say(text: str) -> None:
    print(f"{text} (load average {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)


def size_label(n: int) -> str:
    """3000000 -> 3m, 10000 -> 10k (the file names the lead's instructions use)."""
    for unit, suffix in ((1_000_000, "m"), (1_000, "k")):
        if n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


def run(tweets: int, quick: bool, work: Path, reps: int, metric_reps: int, incremental: int) -> Results:
    results = Results(tweets=tweets, quick=quick, machine=machine())
    base = work / f"twcs_{size_label(tweets)}.csv"
    batch = work / f"twcs_{size_label(incremental)}_after_{size_label(tweets)}.csv"
    db = work / f"bench_{size_label(tweets)}.duckdb"
    say(f"generating {base.name} and {batch.name} (kept for the next run)")
    generate(tweets, base)
    generate(incremental, batch, id_offset=tweets)
    results.checks["incremental_tweets"] = incremental
    say("(a) the floor: DuckDB read_csv")
    results.checks.setdefault("load", {})["floor"] = os.getloadavg()[0]
    results.steps["floor"] = step_floor(base, work)
    say("(b) the pandas pipeline, and the same with pandas' pyarrow CSV parser")
    results.checks.setdefault("load", {})["pandas"] = os.getloadavg()[0]
    results.steps["pandas"] = step_pandas(base)
    results.checks["pandas_pyarrow"] = step_pandas(base, "pyarrow")
    say("(b'') the Polars pipeline")
    results.checks.setdefault("load", {})["polars"] = os.getloadavg()[0]
    results.steps["polars"] = step_polars(base)
    say("(a') the plain DuckDB SQL pipeline")
    results.checks.setdefault("load", {})["duckdb_sql"] = os.getloadavg()[0]
    results.steps["duckdb_sql"] = step_duckdb_sql(base)
    say("(c) carepulse ingest twcs")
    results.checks.setdefault("load", {})["ingest"] = os.getloadavg()[0]
    results.steps["ingest"] = step_ingest(base, db)
    say(f"(e) carepulse metrics --by account, {metric_reps} runs")
    results.checks.setdefault("load", {})["metrics"] = os.getloadavg()[0]
    results.steps["metrics"] = step_metrics(db, metric_reps)
    say("(e) carepulse report --period LAST-4-WEEKS --format pdf, 3 runs")
    results.checks["report"] = step_report(db, 2 if quick else 3)
    accounts = sorted((k for k, v in results.steps["metrics"]["result"]["groups"].items()
                       if v.get("threads") and not k.startswith("(")),
                      key=lambda k: -results.steps["metrics"]["result"]["groups"][k]["threads"])
    say(f"(f) the dashboard: first page load and {reps} filter changes per page")
    results.checks.setdefault("load", {})["dashboard"] = os.getloadavg()[0]
    results.dashboard = step_dashboard(db, accounts, reps)
    results.dashboard["summary"] = summarise_dashboard(results.dashboard)
    say(f"(d) incremental load of {incremental:,} tweets")
    results.checks.setdefault("load", {})["incremental"] = os.getloadavg()[0]
    results.steps["incremental"] = step_incremental(batch, db)
    if results.steps["incremental"]["wrote_delta"]:
        say(f"(d) the same {incremental:,} tweets handed to the resident loader (ingest --watch)")
        results.checks.setdefault("load", {})["resident"] = os.getloadavg()[0]
        results.steps["resident"] = step_handed(batch, db, work, reps=2 if quick else RESIDENT_REPS)
    results.machine["load_after"] = os.getloadavg()
    for peer in PEERS:
        key = "same_numbers" if peer == "pandas" else f"same_numbers_{peer}"
        results.checks[key] = same_numbers(results.steps[peer]["result"], results.steps["metrics"]["result"])
    results.checks["ratios"] = headline_ratios(results)
    return results


def dashboard_only(db: Path, reps: int, json_out: Path | None, login: bool = False) -> int:
    """Step (f) alone against an existing warehouse: ``--step dashboard --db PATH [--reps N] [--json FILE]
    [--login]`` (``--login``: a dashboard user is added to the warehouse and every request is logged in).

    The accounts come from one ``carepulse metrics --by account`` run, busiest first, as in the full run.
    """
    metrics = step_metrics(db, 1)["result"]
    accounts = sorted((k for k, v in metrics["groups"].items() if v.get("threads") and not k.startswith("(")),
                      key=lambda k: -metrics["groups"][k]["threads"])
    say(f"(f) the dashboard: first page load and {reps} filter changes per page")
    load_before = os.getloadavg()[0]
    board = step_dashboard(db, accounts, reps, login)
    board["summary"] = summarise_dashboard(board)
    lines = [f"load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}", "",
             "| step | what | wall | peak RSS | notes |", "|---|---|---:|---:|---|",
             *dashboard_rows(board, board["summary"]), *dashboard_callback_table(board, board["summary"]), "",
             "| measure | value | target | |", "|---|---:|---:|---|"]
    lines += [f"| {row['what']} | {row['value']} | {row['target']} | {ok_mark(row['ok'])} |"
              for row in dashboard_ratios(board)]
    print("\n".join(lines))
    if json_out:
        json_out.write_text(json.dumps(board, indent=1, default=str), encoding="utf-8")
    return 0


def peer_only(peer: str, csv: Path, db: Path | None, json_out: Path | None) -> int:
    """One peer alone on a file: ``--step pandas|polars|duckdb_sql --file CSV [--db WAREHOUSE] [--json FILE]``.

    With ``--db`` (a warehouse of the same file, from ``carepulse ingest twcs``) its numbers are checked
    against one ``carepulse metrics --by account`` run, as in the full run; exit code 1 when they differ.
    """
    label, step = PEERS[peer]
    say(f"{label} {peer} on {csv.name}")
    load_before = os.getloadavg()[0]
    result = step(csv)
    inner = result["result"]
    print(f"{label} {peer}: wall {result['wall_s']:.2f} s, peak RSS {result['rss_mb']:,.0f} MB ("
          + ", ".join(f"{k} {v:.2f} s" for k, v in inner["seconds"].items())
          + f"); {inner['tweets']:,} tweets, {inner['threads']:,} threads, {inner['answered']:,} answered, median "
          f"{inner['median_s']} s; load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}")
    same = None
    if db is not None:
        same = same_numbers(inner, step_metrics(db, 1)["result"])
        print(f"same numbers as carepulse metrics on {db.name}, in total and per account: "
              f"{'yes' if same['all'] else 'NO'}")
    if json_out:
        json_out.write_text(json.dumps({**result, "same_numbers": same}, indent=1), encoding="utf-8")
    return 0 if same is None or same["all"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=None, help="tweets in the generated file (default 3,000,000)")
    parser.add_argument("--quick", action="store_true", help="everything on a tiny file (for the test suite)")
    parser.add_argument("--out", type=Path, default=None, help="Markdown file to write the table into")
    parser.add_argument("--json", type=Path, default=None, help="write every raw number here")
    parser.add_argument("--workdir", type=Path, default=None, help="where files and warehouses go (default data/bench)")
    parser.add_argument("--reps", type=int, default=None, help="filter changes per dashboard page (default 20)")
    parser.add_argument("--login", action="store_true",
                        help="the dashboard with a login (a user added to the warehouse; every request logged in)")
    parser.add_argument("--sizes", default=None, help="the scale curve instead (benchmarks/scale.py): comma-separated "
                        "sizes, e.g. 0.3m,1m,3m (10m only when listed)")
    parser.add_argument("--runs", type=int, default=1, help="repeat the run (or the curve) this many times and end "
                        "with the targets over all runs: each run's value, the range, in how many runs each held")
    parser.add_argument("--summarize", type=Path, nargs="+", metavar="JSON", help="instead of running: the targets "
                        "over the runs whose --json files are given (side-by-side and scale files may be mixed)")
    parser.add_argument("--step", choices=("floor", "dashboard", "report", *PEERS), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.summarize:
        return summarize(args.summarize, args.out)
    if args.step == "floor":
        print(json.dumps(floor_step(args.file, args.db)))
        return 0
    if args.step == "report":  # the report step alone, against an existing warehouse (only read)
        print(report_line(step_report(args.db, args.reps or 3)))
        return 0
    if args.step == "dashboard":  # step (f) alone, against an existing warehouse (not written to)
        return dashboard_only(args.db, args.reps or 20, args.json, args.login)
    if args.step in PEERS:  # one peer alone on a file, checked against a warehouse when --db is given
        if args.file is None:
            parser.error(f"--step {args.step} needs --file CSV")
        return peer_only(args.step, args.file, args.db, args.json)
    if args.sizes is not None:  # the scale curve; imported here, since it builds on this module's steps
        from benchmarks import scale

        return scale.from_args(parser, args)
    tweets = args.tweets or (3_000 if args.quick else 3_000_000)
    reps = args.reps or (2 if args.quick else 20)
    runs: list[Results] = []
    text = ""
    with workdir(args.workdir, args.quick) as work:
        for number in range(args.runs):
            if args.runs > 1:
                say(f"run {number + 1} of {args.runs}")
            runs.append(run(tweets, args.quick, work, reps, metric_reps=2 if args.quick else 5,
                            incremental=100 if args.quick else 10_000))
            text = table(runs[-1]) + "\n" + report_line(runs[-1].checks["report"]) + "\n"
            print(text, flush=True)
    if args.runs > 1:  # the last run's table, then every run's values per target
        summary = over_runs([side_by_side(r.steps, r.checks, r.dashboard) for r in runs])
        text += "\n" + summary
        print(summary)
    if args.out:
        write_markdown(args.out, text)
    if args.json:
        raw: Any = asdict(runs[0]) if len(runs) == 1 else {"runs": [asdict(r) for r in runs]}
        args.json.write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    return 0


def summarize(paths: Sequence[Path], out: Path | None) -> int:
    """``--summarize A.json B.json ...``: the targets over earlier runs, printed and, with ``--out``, written
    between the ``targets`` markers of that Markdown file (the other blocks and the prose are kept)."""
    try:
        text = over_runs(from_files(paths))
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: cannot summarize {', '.join(map(str, paths))}: {exc}", file=sys.stderr)
        return 2
    print(text)
    if out:
        from benchmarks.scale import write_block

        write_block(out, text, TARGETS_START, TARGETS_END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
