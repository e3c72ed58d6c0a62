"""The benchmark's results: the machine it ran on, the Markdown table, the ratios against the targets."""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.targets import PEERS as TARGET_PEERS
from benchmarks.targets import dashboard_targets, side_by_side
from benchmarks.targets import megabytes as _mb
from benchmarks.targets import seconds as _s

START_MARK = "<!-- results:start -->"
END_MARK = "<!-- results:end -->"


@dataclass
class Results:
    tweets: int
    quick: bool
    machine: dict[str, Any]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    dashboard: dict[str, Any] = field(default_factory=dict)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        if len(ordered) == 1:
            return ordered[0]
        pos = q * (len(ordered) - 1)
        low = int(pos)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)

    return {"p50": at(0.5), "p95": at(0.95), "n": len(ordered)}


def machine() -> dict[str, Any]:
    import dash
    import duckdb
    import numpy
    import pandas
    import polars

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines()
                          if x.startswith("MemTotal")).split()[1])
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cores": os.cpu_count(), "cpu": cpu,
        "ram_gb": round(mem_kb / 2**20, 1), "os": platform.platform(), "python": platform.python_version(),
        "duckdb": duckdb.__version__, "pandas": pandas.__version__, "numpy": numpy.__version__,
        "polars": polars.__version__,
        "dash": dash.__version__, "load_before": os.getloadavg(),
    }


def ok_mark(ok: bool | None) -> str:
    return "" if ok is None else "met" if ok else "**missed**"


def dashboard_rows(board: dict[str, Any], dash_summary: dict[str, Any]) -> list[str]:
    """The (f) rows of the steps table: first page loads and whole filter changes."""
    lines: list[str] = []
    if not board:
        return lines
    first = board["first_page"]
    again = board["first_page_again"]
    lines.append(
        f"| (f) | dashboard: first page load right after start (HTML, {first['assets']} assets, layout, "
        f"dependencies / until the Pilot page shows its data) | {_s(first['shell_s'])} / "
        f"{_s(first['with_data_s'])} | {_mb(board['rss_mb'])} | server answers {_s(board['start_s'])} after "
        f"launch; it is idle again (its background warm-up of every page's default views and this load "
        f"done) {_s(board['warm_up_s'])} after launch |")
    lines.append(
        f"| (f) | dashboard: first load of another page (Team) after the warm-up | {_s(again['shell_s'])} / "
        f"{_s(again['with_data_s'])} | | |")
    for change in dash_summary.get("changes", []):
        lines.append(
            f"| (f) | {change['page']}: filter change until the page is drawn with data, callbacks sent at once "
            f"as the browser does (p50 / p95, n = "
            f"{change['http']['n']}) | {_s(change['http']['p50'])} / {_s(change['http']['p95'])} | | raw queries "
            f"{_s(change['raw']['p50'])} / {_s(change['raw']['p95'])} |")
    return lines


def dashboard_callback_table(board: dict[str, Any], dash_summary: dict[str, Any]) -> list[str]:
    """Each data callback replayed alone, next to its raw query time."""
    if not board:
        return []
    lines = ["", "Dashboard data callbacks, each replayed alone over HTTP with the payload the page sends after "
                 "a filter change (p50 / p95; every request a new filter, so no cached answer), next to the raw "
                 "time of the metric calls behind it (the same functions called directly, uncached) and the "
                 "whole Python callback in-process (queries plus figure building):", "",
             "| page | callback output | HTTP | raw queries | Python callback | HTTP / raw (p50) |",
             "|---|---|---:|---:|---:|---:|"]
    for cb in dash_summary.get("callbacks", []):
        ratio = cb["http"]["p50"] / cb["raw"]["p50"] if cb["raw"]["p50"] else None
        lines.append(f"| {cb['page']} | `{cb['output'].split('@')[0].strip('.')[:60]}` | {_s(cb['http']['p50'])} / "
                     f"{_s(cb['http']['p95'])} | {_s(cb['raw']['p50'])} / {_s(cb['raw']['p95'])} | "
                     f"{_s(cb['python']['p50'])} | {'–' if ratio is None else f'{ratio:.2f}x'} |")
    return lines


def resident_row(r: dict[str, Any] | None) -> list[str]:
    """(d) handed to the resident loader: the wall a user waits, from the rename into its folder to published."""
    if not r:
        return []
    return [f"| (d) | the same batch handed to the resident loader (`ingest twcs --watch`): from its rename into "
            f"the folder to published | {_s(r['wall_s'])} | {_mb(r['rss_mb'])} | median of "
            f"{', '.join(_s(w) for w in r['walls'])}; the folder looked at every {r['poll_s'] * 1000:.0f} ms; "
            f"peak RSS of the loader process |",
            *([f"| (d) | the same batch from the command line (`carepulse ingest twcs FILE`), which hands it to that "
               f"loader and prints its report | {_s(r['cli_wall_s'])} | {_mb(r['cli_rss_mb'])} | median of "
               f"{', '.join(_s(w) for w in r['cli_walls'])}; start-up included; peak RSS of the command |"]
              if "cli_wall_s" in r else [])]


def table(results: Results) -> str:
    s, m = results.steps, results.machine
    a, b, c, d, e = s["floor"], s["pandas"], s["ingest"], s["incremental"], s["metrics"]
    b2 = results.checks["pandas_pyarrow"]
    dash_summary = results.dashboard.get("summary", {})
    lines = [
        f"{results.tweets:,} tweets, generated by `benchmarks/generate.py` (seed 42); {m['cores']} cores "
        f"({m['cpu'] or 'unknown CPU'}), {m['ram_gb']} GB RAM; Python {m['python']}, DuckDB {m['duckdb']}, "
        f"pandas {m['pandas']}, numpy {m['numpy']}, Polars {m.get('polars', '–')}, "
        f"Dash {m['dash']}; {m['date']}; load average before "
        f"{'/'.join(f'{x:.2f}' for x in m['load_before'])}, after {'/'.join(f'{x:.2f}' for x in m['load_after'])}.",
        "",
        "| step | what | wall | peak RSS | notes |",
        "|---|---|---:|---:|---|",
        f"| (a) | DuckDB `read_csv` into a table, timestamps parsed, checkpointed (the floor) | {_s(a['wall_s'])} | "
        f"{_mb(a['rss_mb'])} | {a['rows']:,} rows |",
        f"| (b) | vectorised pandas pipeline: load, roots, first response per thread | {_s(b['wall_s'])} | "
        f"{_mb(b['rss_mb'])} | load {_s(b['result']['seconds']['load'])}, roots {_s(b['result']['seconds']['roots'])}, "
        f"threads {_s(b['result']['seconds']['threads'])} |",
        f"| (b') | the same pipeline with `read_csv(engine=\"pyarrow\")` | {_s(b2['wall_s'])} | {_mb(b2['rss_mb'])} | "
        f"load {_s(b2['result']['seconds']['load'])}, threads {_s(b2['result']['seconds']['threads'])} |",
        *peer_rows(s),
        f"| (c) | `carepulse ingest twcs`, complete | {_s(c['wall_s'])} | {_mb(c['rss_mb'])} | loader "
        f"{_s(c['loader_s'])}; warehouse {c['db_mb']:,.0f} MB |",
        f"| (d) | incremental load of {results.checks.get('incremental_tweets', 0):,} new tweets | {_s(d['wall_s'])} | "
        f"{_mb(d['rss_mb'])} | loader's own {_s(d['loader_s'])}; "
        f"{'median of ' + ', '.join(_s(w) for w in d['walls']) if len(d.get('walls', [])) > 1 else 'one load'}; "
        f"{'wrote the delta' if d.get('wrote_delta') else 'rewrote the base'} |",
        *resident_row(s.get("resident")),
        f"| (e) | `carepulse metrics --by account --format json` (median of {len(e['walls'])}) | {_s(e['wall_s'])} | "
        f"{_mb(e['rss_mb'])} | runs {', '.join(_s(w) for w in e['walls'])} |",
    ]
    board = results.dashboard
    lines += dashboard_rows(board, dash_summary)
    lines += ["", "Load average (1 min) when each step started: " + ", ".join(
        f"{k} {v:.2f}" for k, v in results.checks.get("load", {}).items()) + "."]
    lines += dashboard_callback_table(board, dash_summary)
    ratios = results.checks["ratios"]
    lines += ["", "Headline ratios and targets:", "", "| measure | value | target | |", "|---|---:|---:|---|"]
    for row in ratios:
        lines.append(f"| {row['what']} | {row['value']} | {row['target']} | {ok_mark(row['ok'])} |")
    same = results.checks["same_numbers"]
    lines += ["", f"Same numbers: pandas (b) and carepulse (e) agree on threads, answered threads and the median first "
                  f"response, in total and per account: **{'yes' if same['all'] else 'NO'}** "
                  f"({same['threads']:,} threads, {same['answered']:,} answered, median {same['median_s']} s)."]
    for key, label, (what, _) in PEERS:
        if f"same_numbers_{key}" in results.checks:
            agree = results.checks[f"same_numbers_{key}"]["all"]
            lines.append(f"The same for {what} {label} and carepulse (e): **{'yes' if agree else 'NO'}**.")
    return "\n".join(lines) + "\n"


# the stronger peers' rows in the steps table: step key, label, (what it is, what its row says); the labels
# and names are those the targets judge (benchmarks.targets.PEERS)
_ROW_TEXT = {
    "polars": "Polars pipeline, lazy and multi-threaded: load, roots, first response per thread",
    "duckdb_sql": "plain DuckDB SQL: `read_csv`, parents, roots by a recursive CTE, first response per thread",
}
PEERS = tuple((key, label, (what, _ROW_TEXT[key])) for key, label, what in TARGET_PEERS if key in _ROW_TEXT)


def peer_rows(steps: dict[str, dict[str, Any]]) -> list[str]:
    """The rows of (b'') and (a'), the peers that use every core, when the run has them."""
    lines = []
    for key, label, (_, what) in PEERS:
        if key in steps:
            step, seconds = steps[key], steps[key]["result"]["seconds"]
            lines.append(f"| {label} | {what} | {_s(step['wall_s'])} | {_mb(step['rss_mb'])} | load "
                         f"{_s(seconds['load'])}, roots {_s(seconds['roots'])}, threads {_s(seconds['threads'])} |")
    return lines


def headline_ratios(results: Results) -> list[dict[str, Any]]:
    """The run's rows of "Headline ratios and targets", judged by :mod:`benchmarks.targets`."""
    return [t.row() for t in side_by_side(results.steps, results.checks, results.dashboard)]


def dashboard_ratios(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """(f) against its targets: first page loads, the worst callback and each whole filter change."""
    return [t.row() for t in dashboard_targets(dashboard)]


def same_numbers(pandas_result: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    total = metrics["total"]
    groups = {k: (v["threads"], v["answered_threads"], v["first_response_median_s"])
              for k, v in metrics["groups"].items() if v["threads"]}
    theirs = {k: (v["threads"], v["answered"], v["median_s"]) for k, v in pandas_result["by_account"].items()}
    same_total = (pandas_result["threads"], pandas_result["answered"], pandas_result["median_s"]) == (
        total["threads"], total["answered_threads"], total["first_response_median_s"])
    return {"total": same_total, "by_account": groups == theirs, "all": same_total and groups == theirs,
            "threads": total["threads"], "answered": total["answered_threads"],
            "median_s": total["first_response_median_s"]}


def write_markdown(out: Path, text: str) -> None:
    block = f"{START_MARK}\n{text}{END_MARK}"
    if out.exists():
        current = out.read_text(encoding="utf-8")
        if START_MARK in current and END_MARK in current:
            head, rest = current.split(START_MARK, 1)
            tail = rest.split(END_MARK, 1)[1]
            out.write_text(head + block + tail, encoding="utf-8")
            return
        out.write_text(current.rstrip() + "\n\n" + block + "\n", encoding="utf-8")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("# Benchmark results\n\n" + block + "\n", encoding="utf-8")
