"""The scale curve (issue 18, item 4): how (c), (d), (e) and a dashboard filter change grow with the data.

    python -m benchmarks.run --sizes 0.3m,1m,3m[,10m] [--workdir DIR] [--json FILE] [--out RESULTS.md]

For each size, smallest first, on a freshly generated file of that many tweets (kept in the workdir,
like the side-by-side run's): (c) the complete ``carepulse ingest twcs`` (wall, peak RSS, the loader's
own seconds, file and warehouse size), (e) ``carepulse metrics --by account`` (median of 3), the
dashboard's filter changes per page (p50 / p95 over ``--reps``, default :data:`SCALE_REPS`), and last (d) the
incremental load of 10 k newer tweets, because it changes the warehouse, from the command line and then
handed to the resident loader (:mod:`benchmarks.resident`). At the largest size the dashboard is measured
once more after (d), with the delta (d) published beside the base. Last, with two sizes or more, (d) at the
two largest once more, in turns (:mod:`benchmarks.paired`), so their ratio is not a drift of the machine. The peers are
not part of the curve: they have their own step (``--step pandas|polars|duckdb_sql``) and would triple
the run.

One row per size, then the growth between consecutive sizes: each time ratio next to the size ratio,
with the exponent k = log(time ratio) / log(size ratio), so "linear" (k about 1), "sub-linear" (k < 1)
and "super-linear" (k > 1) can be read off without arithmetic. The machine is shared, so the load
average before and after each size is in its row. 10 M is opt-in: it runs only when listed.

The curve ends with its targets (:mod:`benchmarks.targets`): at the largest size the ingest's peak RSS and
every page's filter change p95 (with and without a delta), (d) there against the size before, (e)'s growth
exponent into it, and (d) and (e) at 3 M when 3 M is a size. ``--runs N`` runs the whole curve N times and
judges every run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any

from benchmarks.paired import ROUNDS as PAIRED_ROUNDS
from benchmarks.paired import step_paired
from benchmarks.processes import checked, python, run_child
from benchmarks.report import END_MARK, START_MARK, machine
from benchmarks.resident import REPS as RESIDENT_REPS
from benchmarks.resident import step_handed
from benchmarks.run import generate, say, size_label, step_incremental, step_ingest, step_metrics, workdir
from benchmarks.targets import LINEAR_K, over_runs
from benchmarks.targets import megabytes as _mb
from benchmarks.targets import scale as scale_targets
from benchmarks.targets import seconds as _s

SCALE_START = START_MARK.replace("results", "scale")  # its own block: rewriting it keeps the main table
SCALE_END = END_MARK.replace("results", "scale")
UNITS = {"": 1, "k": 1_000, "m": 1_000_000}
METRIC_REPS = 3
SCALE_REPS = 20
"""Filter changes per page at each size, as in the side-by-side run: the target judges their p95, and a p95 of
five (the default before) is nearly the largest of them, one slow moment of a shared machine."""


def parse_size(text: str) -> int:
    """``300k``, ``0.3m``, ``1m``, ``10M``, ``1000000`` or ``1_000_000`` -> tweets. Decimal, not float, so
    ``0.3m`` is exactly 300,000 (its file is named ``twcs_300k.csv``, the same for every spelling)."""
    raw = text.strip().lower().replace("_", "").replace(",", "")
    unit = raw[-1:] if raw[-1:] in ("k", "m") else ""
    try:
        value = Decimal(raw[: len(raw) - len(unit)]) * UNITS[unit]
    except InvalidOperation:
        raise ValueError(f"not a size: {text!r} (write 300k, 0.3m, 1m or 1000000)") from None
    if not value.is_finite() or value != value.to_integral_value() or value < 1:
        raise ValueError(f"not a whole, positive number of tweets: {text!r}")
    return int(value)


def parse_sizes(text: str) -> list[int]:
    """A comma-separated list of sizes, smallest first, each once (growth is read between neighbours)."""
    sizes = sorted({parse_size(part) for part in text.split(",") if part.strip()})
    if not sizes:
        raise ValueError("--sizes needs at least one size, e.g. 0.3m,1m,3m")
    return sizes


def step_dashboard_child(db: Path, reps: int, work: Path) -> dict[str, Any]:
    """The dashboard step (``step_dashboard`` with ``reps`` filter changes per page) in a child process.

    Not in this process: the dashboard's state is process-wide (one app per process, see
    ``PageData``), so a second size would reuse the first size's app, and the in-process app would
    keep the previous warehouse's memory while the next size's ingest is measured.
    """
    out = work / "scale_dashboard.json"
    checked(run_child([*python(), "-m", "benchmarks.run", "--step", "dashboard", "--db", str(db), "--reps", str(reps),
                       "--json", str(out)]), "the dashboard step")
    board = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return {"changes": board["summary"]["changes"], "rss_mb": board["rss_mb"], "start_s": board["start_s"],
            "first_page_s": board["first_page"]["with_data_s"]}


def measure_size(tweets: int, work: Path, incremental: int, reps: int, with_delta: bool = False) -> dict[str, Any]:
    """One size of the curve: (c), (e), the dashboard, then (d), which changes the warehouse.

    ``with_delta`` (the largest size): the dashboard once more after (d), with the delta it published beside
    the base. That is how a warehouse is read most of the time between compactions: every keyed table is then a
    view, the base less its replaced rows plus the delta (docs/warehouse.md), and a filter change must stay
    inside its limit there too, not only on the file as the full load wrote it.
    """
    label = size_label(tweets)
    base = work / f"twcs_{label}.csv"
    batch = work / f"twcs_{size_label(incremental)}_after_{label}.csv"
    db = work / f"bench_{label}.duckdb"
    row: dict[str, Any] = {"tweets": tweets, "label": label, "file_mb": base.stat().st_size / 2**20,
                           "load_before": os.getloadavg(), "load": {}}
    say(f"[{label}] (c) carepulse ingest twcs")
    row["load"]["ingest"] = os.getloadavg()[0]
    row["ingest"] = step_ingest(base, db)
    say(f"[{label}] (e) carepulse metrics --by account, {METRIC_REPS} runs")
    row["load"]["metrics"] = os.getloadavg()[0]
    metrics = step_metrics(db, METRIC_REPS)
    row["metrics"] = {k: metrics[k] for k in ("wall_s", "walls", "rss_mb")}
    say(f"[{label}] (f) the dashboard: {reps} filter changes per page")
    row["load"]["dashboard"] = os.getloadavg()[0]
    row["dashboard"] = step_dashboard_child(db, reps, work)
    say(f"[{label}] (d) incremental load of {incremental:,} tweets")
    row["load"]["incremental"] = os.getloadavg()[0]
    row["incremental"] = step_incremental(batch, db)
    delta = db.with_name(db.name + ".delta")
    if delta.exists():
        say(f"[{label}] (d) the same batch handed to the resident loader (ingest --watch)")
        row["load"]["resident"] = os.getloadavg()[0]
        row["resident"] = step_handed(batch, db, work, reps=RESIDENT_REPS)
    if with_delta and not delta.exists():
        say(f"[{label}] (d) folded its batch into the base (no delta): the dashboard is not measured again")
    elif with_delta:
        say(f"[{label}] (f) the dashboard again, the delta of (d) beside the base")
        row["load"]["dashboard_delta"] = os.getloadavg()[0]
        row["dashboard_delta"] = {**step_dashboard_child(db, reps, work), "delta_mb": delta.stat().st_size / 2**20}
    row["load_after"] = os.getloadavg()
    return row


def exponent(time_ratio: float, size_ratio: float) -> float | None:
    """k in time ~ size^k between two sizes; None when the sizes are equal or a time is not positive."""
    if time_ratio <= 0 or size_ratio <= 1:
        return None
    return math.log(time_ratio) / math.log(size_ratio)


def shape(k: float | None) -> str:
    """A word for k, with a band around 1 (timing noise on a shared machine is easily 10 %); "flat" below
    0.2: the time hardly follows the data (fixed costs dominate, or the load average moved more than it)."""
    if k is None:
        return "–"
    return "flat" if k < 0.2 else "sub-linear" if k < 0.9 else "linear" if k <= LINEAR_K else "super-linear"


def measures(row: dict[str, Any]) -> dict[str, float]:
    """The numbers whose growth is shown: walls, the ingest's memory, and each page's filter change (p50)."""
    out = {"(c) ingest": row["ingest"]["wall_s"], "(c) peak RSS": row["ingest"]["rss_mb"],
           "(d) incremental": row["incremental"]["wall_s"], "(e) metrics": row["metrics"]["wall_s"]}
    if "resident" in row:
        out["(d) resident"] = row["resident"]["wall_s"]
        if "cli_wall_s" in row["resident"]:  # curves from before the command handed files over have none
            out["(d) command, handed"] = row["resident"]["cli_wall_s"]
    for change in row["dashboard"]["changes"]:
        out[f"{change['page']} filter p50"] = change["http"]["p50"]
    return out


def growth(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Between consecutive sizes: the size ratio, and per measure its ratio and exponent k."""
    out = []
    for small, large in pairwise(rows):
        size_ratio = large["tweets"] / small["tweets"]
        before, after = measures(small), measures(large)
        ratios = {name: after[name] / before[name] if before[name] else math.inf for name in before if name in after}
        out.append({"from": small["label"], "to": large["label"], "size_ratio": size_ratio, "ratios": ratios,
                    "k": {name: exponent(r, size_ratio) for name, r in ratios.items()}})
    return out


def _file_mb(x: float) -> str:
    """File sizes with a decimal below 10 MB, so a small file does not read "0 MB"."""
    return f"{x:.1f} MB" if x < 10 else _mb(x)


def _load(values: Sequence[float]) -> str:
    return "/".join(f"{x:.2f}" for x in values)


def table(result: dict[str, Any]) -> str:
    """The curve as Markdown: a line on the machine, one row per size, then the growth table."""
    m, rows = result["machine"], result["sizes"]
    pages = [c["page"] for c in rows[0]["dashboard"]["changes"]] if rows else []
    lines = [
        f"Scale curve: files generated by `benchmarks/generate.py` (seed 42), {m['cores']} cores "
        f"({m['cpu'] or 'unknown CPU'}), {m['ram_gb']} GB RAM; Python {m['python']}, DuckDB {m['duckdb']}, "
        f"Dash {m['dash']}; {m['date']}. (d) loads {result['incremental']:,} newer tweets into that size's "
        f"warehouse from the command line, (d) resident hands it to a running `ingest --watch` (median of "
        f"{RESIDENT_REPS}, from the file's rename into the folder to published), (d) command, handed runs "
        f"`carepulse ingest twcs BATCH` while that loader runs, which hands the file to it (median of "
        f"{RESIDENT_REPS}, start-up included); (e) is the median of "
        f"{METRIC_REPS} processes; a filter change is the whole change until the page is drawn with data "
        f"(p50 / p95 over {result['reps']} per page, each to another account). Load "
        f"average (1 / 5 / 15 min) before and after each size is in its row.",
        "",
        "| tweets | file | (c) ingest | (c) peak RSS | (c) loader | warehouse | (d) +"
        f"{size_label(result['incremental'])} | (d) loader | (d) resident | (d) command, handed | (e) metrics | "
        + " | ".join(f"{p} filter p50 / p95" for p in pages) + " | load before → after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(pages) + "---|",
    ]
    for row in rows:
        c, d = row["ingest"], row["incremental"]
        changes = {ch["page"]: ch["http"] for ch in row["dashboard"]["changes"]}
        lines.append(
            f"| {row['tweets']:,} | {_file_mb(row['file_mb'])} | {_s(c['wall_s'])} | {_mb(c['rss_mb'])} | "
            f"{_s(c['loader_s'])} | {_mb(c['db_mb'])} | {_s(d['wall_s'])} | {_s(d['loader_s'])} | "
            f"{_s(row.get('resident', {}).get('wall_s'))} | {_s(row.get('resident', {}).get('cli_wall_s'))} | "
            f"{_s(row['metrics']['wall_s'])} | "
            + " | ".join(f"{_s(changes[p]['p50'])} / {_s(changes[p]['p95'])}" if p in changes else "–" for p in pages)
            + f" | {_load(row['load_before'])} → {_load(row['load_after'])} |")
    lines += _with_delta(rows[-1], pages) if rows else []
    lines += _paired(result.get("paired"))
    if result["growth"]:
        names = list(result["growth"][0]["ratios"])
        lines += ["", "Growth between consecutive sizes: time (or memory) ratio, and k = log(ratio) / log(size "
                      "ratio): k about 1 is linear, below 1 sub-linear, above 1 super-linear, below 0.2 flat. Fixed "
                      "costs (Python start-up, about 0.5 s per process) lower k at small sizes.", "",
                  "| sizes | tweets × | " + " | ".join(f"{n} ×" for n in names) + " |",
                  "|---|---:|" + "---:|" * len(names)]
        for step in result["growth"]:
            cells = [f"{step['ratios'][n]:.2f}x (k {step['k'][n]:.2f}, {shape(step['k'][n])})"
                     if step["k"][n] is not None else f"{step['ratios'][n]:.2f}x" for n in names]
            lines.append(f"| {step['from']} → {step['to']} | {step['size_ratio']:.2f}x | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _with_delta(row: dict[str, Any], pages: Sequence[str]) -> list[str]:
    """The largest size's filter changes measured again after (d), with its delta beside the base."""
    board = row.get("dashboard_delta")
    if not board:
        return []
    changes = {ch["page"]: ch["http"] for ch in board["changes"]}
    shown = ", ".join(f"{p} {_s(changes[p]['p50'])} / {_s(changes[p]['p95'])}" for p in pages if p in changes)
    return ["", f"At {row['tweets']:,} tweets again after (d), with its delta ({_file_mb(board['delta_mb'])}) beside "
                f"the base, as the warehouse is read between compactions: filter change p50 / p95 {shown} (load "
                f"average {row['load']['dashboard_delta']:.2f} at the start)."]


def _paired(paired: dict[str, Any] | None) -> list[str]:
    """(d) at the two largest sizes in turns (:mod:`benchmarks.paired`), beside the curve's own (d) walls."""
    if not paired:
        return []
    small, large = (f"{n:,}" for n in paired["tweets"])
    if "skipped" in paired:
        return ["", f"(d) at {small} and {large} tweets in turns: not measured, {paired['skipped']}."]
    loads = 2 * paired["rounds"]
    parts = [f"{way} {_s(paired[way]['median_s'][0])} / {_s(paired[way]['median_s'][1])} "
             f"({paired[way]['ratio']:.2f}x)" for way in ("command", "resident")]
    return ["", f"(d) at {small} and {large} tweets in turns ({paired['rounds']} rounds of smaller, larger, larger, "
                f"smaller; {loads} loads per size and way, load average {paired['load_before']:.2f} at the start), "
                f"median at {small} / at {large}: {'; '.join(parts)}. The curve's (d) walls above were measured "
                "minutes apart, these side by side in time (benchmarks/paired.py)."]


def write_block(out: Path, text: str, start: str = SCALE_START, end: str = SCALE_END) -> None:
    """Into ``out`` between the markers (appended when absent), the main results block untouched."""
    block = f"{start}\n{text}{end}"
    current = out.read_text(encoding="utf-8") if out.exists() else "# Benchmark results\n"
    if start in current and end in current:
        head, rest = current.split(start, 1)
        out.write_text(head + block + rest.split(end, 1)[1], encoding="utf-8")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(current.rstrip() + "\n\n" + block + "\n", encoding="utf-8")


def run_curve(sizes: Sequence[int], work: Path, incremental: int, reps: int,
              paired_rounds: int = PAIRED_ROUNDS) -> dict[str, Any]:
    """Every file first (generation is not measured, and would raise the load average of the first
    size's steps if interleaved), then each size in turn, smallest first; last, with two sizes or more, (d) at
    the two largest in turns (:mod:`benchmarks.paired`)."""
    for tweets in sizes:
        say(f"generating twcs_{size_label(tweets)}.csv and its {size_label(incremental)} batch (kept for the next run)")
        generate(tweets, work / f"twcs_{size_label(tweets)}.csv")
        generate(incremental, work / f"twcs_{size_label(incremental)}_after_{size_label(tweets)}.csv",
                 id_offset=tweets)
    result: dict[str, Any] = {"machine": machine(), "incremental": incremental, "reps": reps, "sizes": []}
    for tweets in sizes:
        result["sizes"].append(measure_size(tweets, work, incremental, reps, with_delta=tweets == max(sizes)))
    result["growth"] = growth(result["sizes"])
    if len(sizes) > 1:
        pair = sorted(sizes)[-2:]
        labels = [size_label(n) for n in pair]
        say(f"(d) at {labels[0]} and {labels[1]} in turns ({paired_rounds} ABBA rounds): the command, then resident")
        result["paired"] = {"tweets": pair, "load_before": os.getloadavg()[0],
                            **step_paired([(work / f"twcs_{size_label(incremental)}_after_{label}.csv",
                                            work / f"bench_{label}.duckdb") for label in labels], work, paired_rounds)}
    result["machine"]["load_after"] = os.getloadavg()
    return result


def from_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``benchmarks.run --sizes``: the curve instead of the side-by-side run (``--quick``: 100-tweet batches,
    one filter change per page, a temporary workdir unless ``--workdir``: the test suite's path)."""
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as error:
        parser.error(str(error))
    if args.tweets is not None:
        parser.error("--sizes and --tweets do not go together (the sizes are the tweets)")
    reps = args.reps or (1 if args.quick else SCALE_REPS)
    results = []
    with workdir(args.workdir, args.quick) as work:
        for number in range(args.runs):
            if args.runs > 1:
                say(f"scale curve, run {number + 1} of {args.runs}")
            results.append(run_curve(sizes, work, incremental=100 if args.quick else 10_000, reps=reps,
                                     paired_rounds=1 if args.quick else PAIRED_ROUNDS))
            print(table(results[-1]), flush=True)
    targets = over_runs([scale_targets(r) for r in results])  # one run: its values against the targets
    print(targets)
    text = table(results[-1]) + "\n" + targets
    if args.out:
        write_block(args.out, text)
    if args.json:
        raw = results[0] if len(results) == 1 else {"runs": results}
        args.json.write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    return 0
