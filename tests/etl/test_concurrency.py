"""Readers never wait for a load and never see half of one (docs/warehouse.md, "Snapshots")."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from benchmarks import generate
from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_tweets
from carepulse.warehouse import Warehouse
from tests.twcs_helpers import at, row, write_twcs


def test_a_reader_keeps_answering_from_the_last_snapshot_while_an_ingest_runs(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb")
    small = write_twcs(tmp_path / "small.csv", [row(9_000_001, "c1", False, at("10:00"), "@acme hi"),
                                                 row(9_000_002, "acme", True, at("10:01"), "@c1 hi", parent=9_000_001)])
    ingest_tweets(Warehouse(settings.db), "twcs", [small], settings)

    big = tmp_path / "big.csv"
    assert generate.main(["--tweets", "150000", "--out", str(big)]) == 0

    reader = Warehouse(settings.db).reader()
    held_open = reader.connection()
    assert held_open.execute("SELECT count(*) FROM tweets").fetchone() == (2,)

    loader = subprocess.Popen(
        [sys.executable, "-m", "carepulse.cli", "ingest", "twcs", str(big), "--db", str(settings.db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    answers_during_load: list[tuple[int, float]] = []
    while loader.poll() is None:
        started = time.perf_counter()
        row_count = reader.connection().execute("SELECT count(*) FROM tweets").fetchone()
        elapsed = time.perf_counter() - started
        if loader.poll() is None:
            answers_during_load.append((row_count[0] if row_count else -1, elapsed))
        time.sleep(0.05)
    out, err = loader.communicate()
    assert loader.returncode == 0, err

    final = reader.connection().execute("SELECT count(*) FROM tweets").fetchone()
    assert final == (150_002,)
    before_publish = [count for count, _ in answers_during_load if count == 2]
    assert len(before_publish) >= 3, "the load finished before the reader could ask; make the file bigger"
    assert {count for count, _ in answers_during_load} <= {2, 150_002}, "a reader saw part of a running load"
    assert max(seconds for _, seconds in answers_during_load) < 1.0, "a reader waited for the writer"
    assert held_open.execute("SELECT count(*) FROM tweets").fetchone() == (2,)
    assert "read 150,000 = loaded 150,000" in out


def test_a_second_loader_waits_for_the_first_instead_of_losing_its_rows(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb")
    files = []
    for i in range(2):
        path = tmp_path / f"part{i}.csv"
        assert generate.main(["--tweets", "30000", "--seed", str(i + 1), "--out", str(path)]) == 0
        files.append(path)
    procs = [
        subprocess.Popen([sys.executable, "-m", "carepulse.cli", "ingest", "twcs", str(f), "--db", str(settings.db)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for f in files
    ]
    for p in procs:
        _, err = p.communicate()
        assert p.returncode == 0, err
    con = Warehouse(settings.db).reader().connection()
    runs = con.execute("SELECT count(*), sum(records_read) FROM ingest_runs").fetchone()
    assert runs == (2, 60000)
