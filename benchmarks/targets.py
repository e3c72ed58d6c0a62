"""The targets, how one run is judged against them, and the same targets over several runs.

One run on a shared machine says little about a measure that sits within noise of its limit: (d) near
0.5 s moves by 0.1 s with the load average, the worst callback's ratio by 0.3. The issue asks for three
runs' ranges, so the harness can repeat itself (``--runs N``, for the side-by-side run and for the scale
curve) and ends with one table: a row per target with every run's value, the range, the limit, and in how
many of the runs it held. ``--summarize A.json B.json ...`` builds the same table from the ``--json`` files
of earlier runs (side-by-side and scale files may be mixed: each target has its row, counted over the runs
that measured it).

This module is the one home of the limits: the Markdown tables (:mod:`benchmarks.report`,
:mod:`benchmarks.scale`) and the summary over runs all judge through it. It reads the plain dictionaries a
run writes to ``--json``, so old runs can be judged by the same rules as new ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGETS = {
    "ingest_vs_floor": 2.5,  # (c) / (a) at most
    "peer_vs_ingest": 1.0,  # every peer's wall / (c) at least: carepulse faster than each
    "pandas_vs_ingest": 5.0,  # (b) / (c) at least
    "ingest_rss_mb": 1536.0,  # (c) peak RSS at most (1.5 GB), at the largest size
    "incremental_s": 0.5,  # (d) at most, at 3 M
    "incremental_growth": 1.2,  # (d) at the largest size / (d) at the size before, at most
    "metrics_s": 1.0,  # (e) at most, at 3 M
    "callback_vs_query": 1.5,  # (f) / its query at most
    "first_page_s": 2.0,  # first page load at most
    "filter_p95_s": 0.5,  # a whole filter change, p95, at the largest size
}
LINEAR_K = 1.1
"""Growth exponents up to this count as linear: timing noise on a shared machine is easily 10 %
(:func:`benchmarks.scale.shape` uses the same band for its words)."""
REFERENCE_TWEETS = 3_000_000  # the size the absolute (d) and (e) limits are stated for

# the peers (c) must beat besides pandas (b), which has the stricter 5x: step key, label, what it is;
# (b') is kept under the run's checks, the others under its steps
PEERS = (
    ("pandas_pyarrow", "(b')", "pandas with the pyarrow parser"),
    ("polars", "(b'')", "Polars"),
    ("duckdb_sql", "(a')", "plain DuckDB SQL"),
)


@dataclass(frozen=True)
class Target:
    """One measure of one run against its limit; ``ok`` None: shown for reference, no limit."""

    key: str  # the same in every run: it groups one target's values across runs
    what: str
    value: float
    shown: str
    limit: str
    ok: bool | None

    def row(self) -> dict[str, Any]:
        """The dictionary the Markdown tables print (and ``--json`` keeps under ``checks.ratios``)."""
        return {"key": self.key, "what": self.what, "value": self.shown, "x": self.value, "target": self.limit,
                "ok": self.ok}


def seconds(x: float | None) -> str:
    """A time as the benchmark tables show it (the one home of that format: report and scale import it)."""
    return "–" if x is None else f"{x:.2f} s" if x >= 0.1 else f"{x * 1000:.0f} ms"


def megabytes(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f} MB"



def _times(x: float) -> str:
    return f"{x:.2f}x"


def side_by_side(steps: dict[str, Any], checks: dict[str, Any], dashboard: dict[str, Any]) -> list[Target]:
    """The side-by-side run's targets: (c) against the floor and every peer, its memory, (d), (e), (f)."""
    a, c, d, e = steps["floor"], steps["ingest"], steps["incremental"], steps["metrics"]
    ingest = c["wall_s"]
    out = [Target("ingest_vs_floor", "(c) / (a): ingest against the floor", ingest / a["wall_s"],
                  _times(ingest / a["wall_s"]), f"<= {TARGETS['ingest_vs_floor']}x",
                  ingest / a["wall_s"] <= TARGETS["ingest_vs_floor"])]
    if "pandas" in steps:
        ratio = steps["pandas"]["wall_s"] / ingest
        out.append(Target("pandas_vs_ingest", "(b) / (c): pandas against ingest", ratio, _times(ratio),
                          f">= {TARGETS['pandas_vs_ingest']}x", ratio >= TARGETS["pandas_vs_ingest"]))
    for key, label, what in PEERS:
        peer = steps.get(key) or checks.get(key)
        if peer is None:
            continue
        ratio = peer["wall_s"] / ingest
        out.append(Target(f"{key}_vs_ingest", f"{label} / (c): {what} against ingest (above 1: carepulse faster)",
                          ratio, _times(ratio), f">= {TARGETS['peer_vs_ingest']:.2f}x",
                          ratio >= TARGETS["peer_vs_ingest"]))
    out += [
        Target("ingest_rss_3m", "(c) peak RSS (the 1.5 GB limit is for 10 M: see the scale curve)", c["rss_mb"],
               megabytes(c["rss_mb"]), f"<= {TARGETS['ingest_rss_mb']:,.0f} MB",
               c["rss_mb"] <= TARGETS["ingest_rss_mb"]),
        Target("incremental_s", "(d) incremental load, wall", d["wall_s"], seconds(d["wall_s"]),
               f"<= {TARGETS['incremental_s']:.2f} s", d["wall_s"] <= TARGETS["incremental_s"]),
        *resident_targets(steps.get("resident")),
        Target("metrics_s", "(e) metrics by account, wall (median)", e["wall_s"], seconds(e["wall_s"]),
               f"<= {TARGETS['metrics_s']:.2f} s", e["wall_s"] <= TARGETS["metrics_s"]),
    ]
    return out + dashboard_targets(dashboard)


def resident_targets(resident: dict[str, Any] | None) -> list[Target]:
    """(d) handed to the resident loader, against the same limit as (d) from the command line (runs before
    the resident step existed have none)."""
    if not resident:
        return []
    wall = resident["wall_s"]
    out = [Target("resident_s", "(d) handed to the resident loader (`ingest --watch`), wall", wall, seconds(wall),
                  f"<= {TARGETS['incremental_s']:.2f} s", wall <= TARGETS["incremental_s"])]
    if "cli_wall_s" in resident:  # runs before the command handed files over have none
        cli = resident["cli_wall_s"]
        out.append(Target("resident_cli_s", "(d) from the command line, handed to the resident loader, wall", cli,
                          seconds(cli), f"<= {TARGETS['incremental_s']:.2f} s", cli <= TARGETS["incremental_s"]))
    return out


def dashboard_targets(dashboard: dict[str, Any]) -> list[Target]:
    """(f): first page loads, the worst callback against its queries, each whole filter change likewise."""
    summary = dashboard.get("summary")
    if not summary:
        return []
    out = []
    for label, key in (("right after start", "first_page"), ("after the warm-up", "first_page_again")):
        first = dashboard[key]["with_data_s"]
        out.append(Target(key, f"(f) first page load with data, {label}", first, seconds(first),
                          f"<= {TARGETS['first_page_s']:.2f} s", first <= TARGETS["first_page_s"]))
    worst = max(summary["callbacks"], key=lambda cb: cb["http"]["p50"] / max(cb["raw"]["p50"], 1e-9))
    ratio = worst["http"]["p50"] / max(worst["raw"]["p50"], 1e-9)
    out.append(Target("worst_callback", f"(f) / query, worst callback (p50; {worst['page']} "
                                        f"`{worst['output'].split('@')[0].strip('.')[:30]}`)",
                      ratio, _times(ratio), f"<= {TARGETS['callback_vs_query']}x",
                      ratio <= TARGETS["callback_vs_query"]))
    for change in summary["changes"]:
        ratio = change["http"]["p50"] / max(change["raw"]["p50"], 1e-9)
        out.append(Target(f"{change['page']}_change_vs_query", f"(f) / query, whole {change['page']} filter change "
                          "(p50)", ratio, _times(ratio), f"<= {TARGETS['callback_vs_query']}x",
                          ratio <= TARGETS["callback_vs_query"]))
    return out


def _size(tweets: int) -> str:
    return f"{tweets / 1e6:g} M" if tweets >= 1_000_000 else f"{tweets / 1e3:g} k"


def scale(curve: dict[str, Any]) -> list[Target]:
    """The scale curve's targets: at its largest size the ingest's memory and every page's filter change p95 (on
    the file as loaded, and after (d) with its delta beside the base when measured), (d) there against the size
    before, (e)'s growth exponent into it; (d) and (e) at 3 M when measured."""
    rows = curve["sizes"]
    if not rows:
        return []
    largest = rows[-1]
    at = _size(largest["tweets"])
    rss = largest["ingest"]["rss_mb"]
    out = [Target("scale_rss", f"(c) peak RSS at the largest size ({at})", rss, megabytes(rss),
                  f"<= {TARGETS['ingest_rss_mb']:,.0f} MB", rss <= TARGETS["ingest_rss_mb"])]
    if len(rows) > 1:
        before = rows[-2]
        ratio = largest["incremental"]["wall_s"] / before["incremental"]["wall_s"]
        out.append(Target("scale_incremental_growth", f"(d) at {at} / (d) at {_size(before['tweets'])}", ratio,
                          _times(ratio), f"<= {TARGETS['incremental_growth']}x",
                          ratio <= TARGETS["incremental_growth"]))
        if "resident" in largest and "resident" in before:
            ratio = largest["resident"]["wall_s"] / before["resident"]["wall_s"]
            out.append(Target("scale_resident_growth", f"(d) resident at {at} / at {_size(before['tweets'])}", ratio,
                              _times(ratio), f"<= {TARGETS['incremental_growth']}x",
                              ratio <= TARGETS["incremental_growth"]))
            if "cli_wall_s" in largest["resident"] and "cli_wall_s" in before["resident"]:
                ratio = largest["resident"]["cli_wall_s"] / before["resident"]["cli_wall_s"]
                out.append(Target("scale_resident_cli_growth", f"(d) command, handed, at {at} / at "
                                  f"{_size(before['tweets'])}", ratio, _times(ratio),
                                  f"<= {TARGETS['incremental_growth']}x", ratio <= TARGETS["incremental_growth"]))
        out += paired_targets(curve.get("paired"))
        k = curve["growth"][-1]["k"].get("(e) metrics")
        if k is not None:
            out.append(Target("scale_metrics_k", f"(e) growth {_size(before['tweets'])} → {at}, exponent k", k,
                              f"k {k:.2f}", f"<= {LINEAR_K} (linear or below)", k <= LINEAR_K))
    reference = next((r for r in rows if r["tweets"] == REFERENCE_TWEETS), None)
    if reference is not None:
        d, e = reference["incremental"]["wall_s"], reference["metrics"]["wall_s"]
        out += [Target("incremental_s", "(d) incremental load, wall", d, seconds(d),
                       f"<= {TARGETS['incremental_s']:.2f} s", d <= TARGETS["incremental_s"]),
                *resident_targets(reference.get("resident")),
                Target("metrics_s", "(e) metrics by account, wall (median)", e, seconds(e),
                       f"<= {TARGETS['metrics_s']:.2f} s", e <= TARGETS["metrics_s"])]
    for board, key, where in ((largest["dashboard"], "", ""),
                              (largest.get("dashboard_delta"), "_delta", ", a delta beside the base")):
        for change in (board or {}).get("changes", []):
            p95 = change["http"]["p95"]
            out.append(Target(f"scale_{change['page']}_p95{key}", f"{change['page']} filter change p95 at {at}{where}",
                              p95, seconds(p95), f"<= {TARGETS['filter_p95_s']:.2f} s", p95 <= TARGETS["filter_p95_s"]))
    return out


def paired_targets(paired: dict[str, Any] | None) -> list[Target]:
    """(d) at the larger size against the smaller, both measured in turns (benchmarks.paired): the same target as
    the curve's ratio, read without the machine's drift between two steps minutes apart."""
    if not paired or "skipped" in paired:
        return []
    small, large = (_size(n) for n in paired["tweets"])
    out = []
    for way in ("command", "resident"):
        ratio = paired[way]["ratio"]
        limit = TARGETS["incremental_growth"]
        out.append(Target(f"scale_paired_{way}_growth", f"(d) {way} at {large} / at {small}, in turns", ratio,
                          _times(ratio), f"<= {limit}x", ratio <= limit))
    return out


def of_run(data: dict[str, Any]) -> list[list[Target]]:
    """The targets of each run a ``--json`` file holds (one run, or ``{"runs": [...]}`` from ``--runs``)."""
    if "runs" in data:
        return [targets for run in data["runs"] for targets in of_run(run)]
    if "sizes" in data:
        return [scale(data)]
    return [side_by_side(data["steps"], data["checks"], data.get("dashboard") or {})]


def from_files(paths: Iterable[Path]) -> list[list[Target]]:
    return [targets for path in paths for targets in of_run(json.loads(Path(path).read_text(encoding="utf-8")))]


def over_runs(runs: Sequence[Sequence[Target]]) -> str:
    """One row per target: its value in each run that measured it (in run order), the range, the limit, and
    in how many of those runs it held. Reference rows (no limit) show values and range only."""
    order: list[str] = []
    seen: dict[str, list[Target]] = {}
    for targets in runs:
        for target in targets:
            if target.key not in seen:
                order.append(target.key)
                seen[target.key] = []
            seen[target.key].append(target)
    lines = [f"Targets over {len(runs)} run{'s' if len(runs) != 1 else ''} (each value is one run's, in run order):",
             "", "| measure | values | range | target | met |", "|---|---|---|---:|---|"]
    for key in order:
        found = seen[key]
        low, high = min(found, key=lambda t: t.value), max(found, key=lambda t: t.value)
        span = low.shown if low.shown == high.shown else f"{low.shown} – {high.shown}"
        judged = [t.ok for t in found if t.ok is not None]
        met = "" if not judged else f"{sum(judged)} of {len(judged)}" + (" (**missed**)" if not all(judged) else "")
        what = found[-1].what.split(" (p50; ")[0] if key == "worst_callback" else found[-1].what
        lines.append(f"| {what} | {', '.join(t.shown for t in found)} | {span} | {found[-1].limit} | {met} |")
    return "\n".join(lines) + "\n"
