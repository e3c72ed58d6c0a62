from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from carepulse.core.config import Settings

REPO = Path(__file__).resolve().parent.parent
# Compiled statements (carepulse/metrics/sqlcache.py) go to a folder of the test run, never the user's
# cache; subprocesses (the CLI, the served dashboard) and the xdist workers inherit it. The process that made
# it removes it at exit (a folder per worker was made, and left in /tmp, while the default was evaluated eagerly).
if "CAREPULSE_CACHE_DIR" not in os.environ:
    os.environ["CAREPULSE_CACHE_DIR"] = tempfile.mkdtemp(prefix="carepulse-sql-cache-")
    atexit.register(shutil.rmtree, os.environ["CAREPULSE_CACHE_DIR"], True)
# The public TWCS sample ships with the tests (tests/data/README.md: source and licence, CC BY-NC-SA 4.0).
SHARED_SAMPLE = REPO / "tests" / "data" / "twcs_sample_1k.csv"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db=tmp_path / "wh" / "carepulse.duckdb")


@pytest.fixture
def shared_sample() -> Path:
    """The real 1,000-tweet TWCS sample, shipped in tests/data (a fresh clone has nothing beside it)."""
    assert SHARED_SAMPLE.exists(), f"the TWCS sample is expected at {SHARED_SAMPLE}"
    return SHARED_SAMPLE


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated pilot (tweets and CRM cases), loaded through the real ingest path (``carepulse demo``)."""
    from carepulse.cli import main

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "--no-serve", "--db", str(path)]) == 0
    return path
