"""Benchmark step: ``carepulse report --period LAST-4-WEEKS --format pdf`` on a given warehouse.

Timed from outside like every step (a child process: Python start-up, the engine's reads for both
periods and WeasyPrint's layout included). The target is under 10 s on a 3 M-tweet warehouse. The
report only reads the warehouse; the PDF goes to a temporary directory that is removed afterwards.

    python -m benchmarks.run --step report --db PATH [--reps 3]
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.processes import carepulse, checked, run_child

TARGET_S = 10.0


def step_report(db: Path, reps: int = 3, period: str = "LAST-4-WEEKS") -> dict[str, Any]:
    """``reps`` runs of the PDF report: each wall time, the median, peak RSS, the PDF's size."""
    walls: list[float] = []
    rss: list[float] = []
    size = 0
    with tempfile.TemporaryDirectory(prefix="carepulse-report-bench-") as tmp:
        out = Path(tmp) / "report.pdf"
        for _ in range(reps):
            child = checked(run_child([*carepulse(), "report", "--period", period, "--format", "pdf",
                                       "--db", str(db), "--out", str(out)]), "carepulse report")
            walls.append(child.wall_s)
            rss.append(child.peak_rss_mb)
            size = out.stat().st_size
    median = statistics.median(walls)
    return {"wall_s": median, "walls": walls, "rss_mb": max(rss), "pdf_kb": size / 1024, "target_s": TARGET_S,
            "ok": median < TARGET_S}


def report_line(result: dict[str, Any]) -> str:
    walls = ", ".join(f"{w:.2f}" for w in result["walls"])
    return (f"carepulse report --period LAST-4-WEEKS --format pdf: median {result['wall_s']:.2f} s "
            f"(runs {walls} s), peak RSS {result['rss_mb']:.0f} MB, PDF {result['pdf_kb']:.0f} KB, "
            f"target < {result['target_s']:.0f} s {'ok' if result['ok'] else 'MISSED'}")
