"""The statement tracer (benchmarks/trace.py) sees what a command runs through relations, not only ``execute``."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import duckdb
import pytest

from benchmarks.trace import trace
from carepulse.warehouse import delta
from tests.twcs_helpers import at, row, write_twcs


def _traced(command: list[str], **options: bool) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()):
        assert trace(command, top=500, out=out, **options) == 0
    return out.getvalue()


def _sites(table: str) -> dict[str, float]:
    """Call site -> milliseconds, from one printed table."""
    found = {}
    for line in table.splitlines():
        match = re.match(r"\s*([\d,.]+) ms\s+\d+x\s+(\S+ \S+ \S+)", line)
        if match:
            found[match.group(2)] = float(match.group(1).replace(",", ""))
    return found


def test_a_load_is_traced_down_to_the_relation_that_reads_the_touched_conversations(
        tmp_path: Path, shared_sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(delta.MODE_ENV, "delta")
    db = tmp_path / "wh.duckdb"
    _traced(["ingest", "twcs", str(shared_sample), "--db", str(db)])
    batch = write_twcs(tmp_path / "late.csv", [row(9_000_001, "someone", False, at("09:00", 40), "hello @AppleSupport"),
                                               row(9_000_002, "AppleSupport", True, at("09:05", 40), "hi", 9_000_001)])
    out = _traced(["ingest", "twcs", str(batch), "--db", str(db)], each_publish=True)
    tables = out.split("DuckDB calls:")[1:]
    assert len(tables) == 2, out  # one at the publish of the delta, one (the rest of the command) at the end
    sites = _sites(tables[0])
    # the loaded tweets of the touched conversations are read by con.sql(...).to_arrow_table(): an execute-only
    # tracer never saw that statement
    assert any(site.startswith("carepulse/etl/transform/threads.py:") and site.endswith("rel.to_arrow_table")
               for site in sites), sites
    assert any("_commit_into_file con.execute" in site for site in sites), sites
    assert "command:" in out and "(exit 0)" in out


def test_the_tracer_puts_duckdb_back_as_it_found_it(tmp_path: Path, shared_sample: Path) -> None:
    before = (duckdb.DuckDBPyConnection.execute, duckdb.DuckDBPyRelation.to_arrow_table)
    db = tmp_path / "wh.duckdb"
    out = _traced(["ingest", "twcs", str(shared_sample), "--db", str(db)])
    assert (duckdb.DuckDBPyConnection.execute, duckdb.DuckDBPyRelation.to_arrow_table) == before
    total = float(re.search(r"DuckDB calls: ([\d,.]+) ms", out).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert total > 0
    sites = _sites(out)
    assert sum(sites.values()) == pytest.approx(total, abs=0.05 * len(sites) + 0.1)  # each shown to 0.1 ms
