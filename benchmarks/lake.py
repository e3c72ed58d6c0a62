"""The lake's cost curve (issue 17): Spark local mode next to DuckDB, from 0.3 M to 3 M tweets.

    python -m benchmarks.lake --sizes 0.1m,0.3m,1m,3m [--workdir DIR] [--json FILE] [--out RESULTS.md]

For each size, on the generated file of that many tweets (``benchmarks/generate.py``, seed 42, kept in the
workdir like the other benchmarks' files), each path a user could take, every command its own process
as a user runs it:

* **warehouse**: ``carepulse ingest twcs`` and ``carepulse metrics --by account --format json``;
* **lake on DuckDB**: ``carepulse lake ingest twcs --engine duckdb`` and ``metrics --lake --engine duckdb``;
* **lake on Spark**: the same with ``--engine spark`` (``local[2]``, its default 1 GB driver; the JVM's
  start, 5 to 20 s here, is part of every Spark command's time, as it is for a user).

Wall time, and peak memory of the whole process tree (the JVM is a child of Python, so the parent's own
peak would leave it out: sampled every 0.1 s with psutil, the sum over the tree). Then the numbers are
checked: the three paths must give the same per-account threads, answered threads and median first
response (the done-when of issue 17, here on generated files; the tests do it on the sample and the
edge cases). One row per size and path, then the growth exponent between sizes as in
``benchmarks/scale.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

from benchmarks.processes import ROOT, carepulse
from benchmarks.report import machine
from benchmarks.run import generate, say, size_label, workdir
from benchmarks.scale import exponent, parse_sizes, shape, write_block
from benchmarks.targets import megabytes as _mb
from benchmarks.targets import seconds as _s

START, END = "<!-- lake:start -->", "<!-- lake:end -->"
PATHS = ("warehouse", "duckdb", "spark")
COMPARED = ("threads", "answered_threads", "first_response_median_s")


def run_tree(cmd: Sequence[str]) -> dict[str, Any]:
    """Run ``cmd``; wall time and the peak of the summed resident memory of it and its descendants."""
    import psutil

    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:  # no pipe to fill
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=stdout, stderr=stderr, cwd=ROOT, text=True)
        root = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)
        wall = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read(), stderr.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}):\n{err[-3000:]}")
    return {"wall_s": wall, "rss_mb": peak / 2**20, "stdout": out}


def ingest(path: str, csv: Path, target: Path) -> dict[str, Any]:
    if target.is_dir():
        shutil.rmtree(target)
    for leftover in (target, Path(f"{target}.wal")):
        if leftover.is_file():
            leftover.unlink()
    if path == "warehouse":
        cmd = [*carepulse(), "ingest", "twcs", str(csv), "--db", str(target)]
    else:
        cmd = [*carepulse(), "lake", "ingest", "twcs", str(csv), "--lake", str(target), "--engine", path]
    done = run_tree(cmd)
    done.pop("stdout")
    return done


def metrics(path: str, target: Path) -> dict[str, Any]:
    where = ["--db", str(target)] if path == "warehouse" else ["--lake", str(target), "--engine", path]
    done = run_tree([*carepulse(), "metrics", *where, "--by", "account", "--format", "json"])
    result = json.loads(done.pop("stdout"))
    done["per_account"] = {key: [g.get(k) for k in COMPARED] for key, g in result["groups"].items()}
    done["total"] = [result["total"].get(k) for k in COMPARED]
    return done


def measure_size(tweets: int, work: Path) -> dict[str, Any]:
    label = size_label(tweets)
    csv = work / f"twcs_{label}.csv"
    generate(tweets, csv)
    row: dict[str, Any] = {"tweets": tweets, "label": label, "file_mb": csv.stat().st_size / 2**20,
                           "load_before": os.getloadavg(), "paths": {}}
    for path in PATHS:
        target = work / (f"lake_{label}.duckdb" if path == "warehouse" else f"lake_{label}_{path}")
        say(f"[{label}] {path}: ingest")
        step: dict[str, Any] = {"ingest": ingest(path, csv, target)}
        say(f"[{label}] {path}: metrics --by account")
        step["metrics"] = metrics(path, target)
        row["paths"][path] = step
    reference = row["paths"]["warehouse"]["metrics"]
    row["same"] = {path: row["paths"][path]["metrics"]["per_account"] == reference["per_account"]
                   and row["paths"][path]["metrics"]["total"] == reference["total"] for path in PATHS}
    row["total"] = reference["total"]
    row["load_after"] = os.getloadavg()
    return row


def table(result: dict[str, Any]) -> str:
    m, rows = result["machine"], result["sizes"]
    lines = [
        f"Lake cost curve: files generated by `benchmarks/generate.py` (seed 42); {m['cores']} cores "
        f"({m['cpu'] or 'unknown CPU'}), {m['ram_gb']} GB RAM; Python {m['python']}, DuckDB {m['duckdb']}; "
        f"{m['date']}. Spark: `local[2]`, 1 GB driver, JVM start included. Peak RSS: the process tree "
        "(Python and the JVM). \"same\": per-account threads, answered threads and median first response equal "
        "to the warehouse's for every account.", "",
        "| tweets | path | ingest | ingest peak RSS | metrics --by account | metrics peak RSS | same | "
        "load before → after |",
        "|---:|---|---:|---:|---:|---:|---|---|"]
    for row in rows:
        for path in PATHS:
            step = row["paths"][path]
            lines.append(
                f"| {row['tweets']:,} | {path} | {_s(step['ingest']['wall_s'])} | {_mb(step['ingest']['rss_mb'])} | "
                f"{_s(step['metrics']['wall_s'])} | {_mb(step['metrics']['rss_mb'])} | "
                f"{'yes' if row['same'][path] else 'NO'} | "
                f"{'/'.join(f'{x:.2f}' for x in row['load_before'])} → "
                f"{'/'.join(f'{x:.2f}' for x in row['load_after'])} |")
    if len(rows) > 1:
        lines += ["", "Growth between consecutive sizes (k = log(time ratio) / log(size ratio); 1 is linear):", "",
                  "| sizes | tweets × | " + " | ".join(f"{p} ingest × | {p} metrics ×" for p in PATHS) + " |",
                  "|---|---:|" + "---:|---:|" * len(PATHS)]
        for small, large in pairwise(rows):
            size_ratio = large["tweets"] / small["tweets"]
            cells = []
            for path in PATHS:
                for step in ("ingest", "metrics"):
                    ratio = large["paths"][path][step]["wall_s"] / small["paths"][path][step]["wall_s"]
                    k = exponent(ratio, size_ratio)
                    cells.append(f"{ratio:.2f}x (k {k:.2f}, {shape(k)})" if k is not None else f"{ratio:.2f}x")
            lines.append(f"| {small['label']} → {large['label']} | {size_ratio:.2f}x | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.3m,1m,3m", help="comma-separated tweets per file (default 0.3m,1m,3m)")
    parser.add_argument("--workdir", type=Path, default=None, help="where files, warehouses and lakes go")
    parser.add_argument("--json", type=Path, default=None, help="write every raw number here")
    parser.add_argument("--out", type=Path, default=None, help="Markdown file to write the table into")
    args = parser.parse_args(argv)
    sizes = parse_sizes(args.sizes)
    with workdir(args.workdir, quick=False) as work:
        rows = [measure_size(n, work) for n in sizes]
    result = {"machine": machine(), "sizes": rows}
    text = table(result)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    if args.out:
        write_block(args.out, text, START, END)
    return 0 if all(all(r["same"].values()) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
