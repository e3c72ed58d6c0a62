"""The resident loader over many files: does a loader that stays up for days stay as fast and as small?

    python -m benchmarks.soak [--tweets 1000000] [--batches 60] [--batch 5000] [--workdir DIR] [--json FILE]

(d) hands one batch to a fresh ``ingest --watch`` five times and removes the delta in between, so every load
does the same work. A loader in use does something else: one batch after another, the delta growing until a
load folds it into a new base (``delta.COMPACT_SHARE``), and the kept DuckDB (``store._Kept``) carried from
load to load and dropped at each compaction. This runs that: a generated base, then ``--batches`` newer
batches renamed into the folder one at a time, each timed from its rename to the loader's ``loaded in`` line.
The loader reports a load before it folds a delta the load left due, and says so in that line; the soak then
waits for its ``compacted`` line and times the compaction apart (as when files arrive seconds apart). After
each load it reads from /proc the loader's resident memory now (``VmRSS``), whether it still holds a replaced
base file open, and the delta's size.

What it shows, per window of ten loads: hand-over time (median and worst), resident memory (lowest and highest)
and the compactions in it. A loader that leaks grows from window to window; one that is sound returns to
the same memory after every compaction. No target in ``benchmarks/targets.py`` judges it: the issue's
limits are for (d); this is the evidence that they hold for a loader that keeps running.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.processes import carepulse, checked, open_files, run_child, status_mb
from benchmarks.resident import hand_over, read_until, resident_loader
from benchmarks.run import generate, say, workdir
from carepulse.cli.commands.ingest_watch import COMPACTED, FOLDING

WINDOW = 10
ID_GAP = 1_000_000  # each batch's ids start this far above the one before: batches never collide


def held_replaced(pid: int, db: Path) -> int | None:
    """How many descriptors of ``pid`` point at a replaced (deleted) base file; None without /proc."""
    links = open_files(pid)
    return None if links is None else sum(1 for link in links if link == f"{db} (deleted)")


def batches(tweets: int, count: int, size: int, work: Path) -> list[Path]:
    """``count`` files of ``size`` newer tweets each (their orphans reply to the base and to earlier batches)."""
    out = []
    for n in range(1, count + 1):
        path = work / f"soak_{size}_after_{tweets}_{n:03d}.csv"
        generate(size, path, id_offset=tweets + n * ID_GAP)
        out.append(path)
    return out


def soak(db: Path, files: list[Path], work: Path) -> list[dict[str, Any]]:
    """Hand ``files`` to one resident loader, one at a time; a row of measurements per load."""
    inbox = work / "soak_inbox"
    delta = db.with_name(db.name + ".delta")
    rows: list[dict[str, Any]] = []
    with resident_loader(inbox, db) as proc:
        base = db.stat().st_ino
        for n, file in enumerate(files, 1):
            wall, said = hand_over(proc, file, inbox / file.name)
            compact_s = None
            if FOLDING in said and proc.stdout is not None:  # reported first, the delta folds now: time it apart
                started = time.perf_counter()
                read_until(proc, proc.stdout, f" {COMPACTED} ")
                compact_s = time.perf_counter() - started
            compacted, base = db.stat().st_ino != base, db.stat().st_ino
            rows.append({"n": n, "wall_s": wall, "compact_s": compact_s, "rss_mb": status_mb(proc.pid, "VmRSS"),
                         "compacted": compacted,
                         "held_replaced": held_replaced(proc.pid, db),
                         "delta_mb": delta.stat().st_size / 2**20 if delta.exists() else 0.0})
        if rows:
            rows[-1]["peak_rss_mb"] = status_mb(proc.pid, "VmHWM")
    return rows


def windows(rows: list[dict[str, Any]], size: int = WINDOW) -> list[dict[str, Any]]:
    """The loads in windows of ``size``: hand-over median and worst, memory lowest and highest, compactions."""
    out = []
    for start in range(0, len(rows), size):
        part = rows[start:start + size]
        walls = [r["wall_s"] for r in part]
        rss = [r["rss_mb"] for r in part if r["rss_mb"] is not None]
        held = [r["held_replaced"] for r in part if r["held_replaced"] is not None]
        out.append({"first": part[0]["n"], "last": part[-1]["n"], "median_s": statistics.median(walls),
                    "max_s": max(walls), "rss_min_mb": min(rss) if rss else None,
                    "rss_max_mb": max(rss) if rss else None, "compactions": sum(r["compacted"] for r in part),
                    "compact_s": [r["compact_s"] for r in part if r.get("compact_s") is not None],
                    "held_replaced": max(held) if held else None})
    return out


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} MB"


def table(result: dict[str, Any]) -> str:
    lines = [f"{result['batches']} batches of {result['batch']:,} tweets handed one after another to one "
             f"`ingest twcs --watch`, into a {result['tweets']:,}-tweet base (loaded in {result['base_s']:.2f} s); "
             f"{result['machine']}.", "",
             "| loads | hand-over median | worst | loader RSS (lowest – highest) | compactions (after the report) "
             "| replaced base held |",
             "|---|---:|---:|---:|---:|---:|"]
    for w in result["windows"]:
        held = "n/a" if w["held_replaced"] is None else ("no" if w["held_replaced"] == 0 else "**yes**")
        after = ", ".join(f"{s:.2f} s" for s in w.get("compact_s", []))
        lines.append(f"| {w['first']}-{w['last']} | {w['median_s']:.2f} s | {w['max_s']:.2f} s | "
                     f"{_mb(w['rss_min_mb'])} – {_mb(w['rss_max_mb'])} | {w['compactions']}"
                     f"{f' ({after})' if after else ''} | {held} |")
    lines += ["", f"Peak RSS of the loader over all {result['batches']} loads: {_mb(result['peak_rss_mb'])}."]
    return "\n".join(lines) + "\n"


def run(tweets: int, count: int, size: int, work: Path) -> dict[str, Any]:
    machine = f"{os.cpu_count()} cores, load average before {os.getloadavg()[0]:.2f}"
    base_csv = work / f"soak_base_{tweets}.csv"
    generate(tweets, base_csv)
    files = batches(tweets, count, size, work)
    db = work / f"soak_{tweets}.duckdb"
    for path in (db, db.with_name(db.name + ".delta")):
        path.unlink(missing_ok=True)
    say(f"soak: the {tweets:,}-tweet base")
    base = checked(run_child([*carepulse(), "ingest", "twcs", str(base_csv), "--db", str(db)]), "loading the base")
    say(f"soak: {count} batches of {size:,} tweets handed to one resident loader")
    rows = soak(db, files, work)
    return {"tweets": tweets, "batches": count, "batch": size, "base_s": base.wall_s, "machine": machine,
            "rows": rows, "windows": windows(rows), "peak_rss_mb": rows[-1].get("peak_rss_mb") if rows else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tweets", type=int, default=1_000_000, help="tweets in the base (default 1,000,000)")
    parser.add_argument("--batches", type=int, default=60, help="files handed over one after another (default 60)")
    parser.add_argument("--batch", type=int, default=5_000, help="tweets per file (default 5,000)")
    parser.add_argument("--workdir", type=Path, default=None, help="where files and warehouses go (default data/bench)")
    parser.add_argument("--json", type=Path, default=None, help="write every load's numbers here")
    args = parser.parse_args(argv)
    if min(args.tweets, args.batches, args.batch) < 1:
        parser.error("--tweets, --batches and --batch must be at least 1")
    with workdir(args.workdir, quick=False) as work:
        result = run(args.tweets, args.batches, args.batch, work)
    print(table(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
