"""The Spark tests' shared pieces: ONE local SparkSession for the whole run, and the lakes it reads.

Local mode starts in about 20 s, so every Spark test shares the session (``local[2]``, ANSI on, UI off,
the JVM flags of :func:`carepulse.warehouse.engines.spark.session`); each SparkLake registers its views
in it when used. pyspark is imported inside the fixture: collecting this folder in the default
(DuckDB-only) run costs nothing; asked for without pyspark, the Spark tests fail and say what to install.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from carepulse.cli import main


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.fail("the Spark tests need pyspark and a JRE: pip install -e '.[test,spark]' (and apt-get install "
                    "openjdk-17-jre-headless), or leave them out (the default run does: they are -m spark)")
    from carepulse.warehouse.engines.spark import session

    started = session(app_name="carepulse-tests")
    yield started
    started.stop()


def quiet(*args: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return main(list(args))


@pytest.fixture(scope="session")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(warehouse, lake) of the public 1,000-tweet sample, loaded through ``carepulse ingest``."""
    from tests.conftest import SHARED_SAMPLE

    folder = tmp_path_factory.mktemp("sample-lake")
    db, lake = folder / "sample.duckdb", folder / "lake"
    assert quiet("ingest", "twcs", str(SHARED_SAMPLE), "--db", str(db)) == 0
    assert quiet("lake", "export", "--db", str(db), "--out", str(lake)) == 0
    return db, lake


@pytest.fixture(scope="session")
def demo_lake(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(warehouse, lake) of the simulated pilot: tweets and CRM cases (tests/conftest.py's ``demo_db``)."""
    lake = tmp_path_factory.mktemp("demo-lake") / "lake"
    assert quiet("lake", "export", "--db", str(demo_db), "--out", str(lake)) == 0
    return demo_db, lake


def edge_rows() -> list[list[str]]:
    """Tweets on the edges the engines could disagree on: a reply cycle, a missing parent, two customers in
    one conversation, a thread answered only by mention, brand-to-brand replies, a duplicate and a damaged
    record, and moments around the end of daylight saving time in Berlin (2017-10-29 01:00 UTC) and
    around local midnight (weekday, day and hour buckets in local time differ from UTC's)."""
    from tests.twcs_helpers import row

    def t(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
        return datetime(2017, 10, day, hour, minute, second, tzinfo=UTC)

    rows = [
        row(1, "alice", False, t(28, 23, 30), "@AcmeCare my order is late"),           # Sat 23:30 UTC = Sun local
        row(2, "AcmeCare", True, t(29, 0, 45, 30), "@alice sorry, DM us ^JS", 1),
        row(3, "bob", False, t(29, 0, 50), "@AcmeCare me too", 2),                       # second customer
        row(4, "AcmeCare", True, t(29, 1, 10, 15), "@bob on it -Mia", 3),               # during the DST change
        row(5, "alice", False, t(29, 1, 30), "@AcmeCare thanks!", 2),
        row(6, "carol", False, t(29, 22, 59, 59), "hello @ZetaHelp @AcmeCare anyone?"),  # mention only
        row(7, "dave", False, t(30, 8, 0), "@ZetaHelp cycle start", 9),                  # 7 -> 9 -> 7: a cycle
        row(9, "dave", False, t(30, 8, 5), "@ZetaHelp cycle end", 7),
        row(10, "ZetaHelp", True, t(30, 9, 0), "@dave looking ^AB", 7),
        row(11, "erin", False, t(30, 23, 0), "@ZetaHelp reply to a tweet we never saw", 999),
        row(12, "ZetaHelp", True, t(31, 6, 0), "@erin hi", 11),
        row(13, "AcmeCare", True, t(31, 6, 30), "@ZetaHelp brand to brand", 12),
        row(14, "frank", False, t(31, 7, 0), "@AcmeCare nobody answers me"),
        row(15, "grace", False, t(25, 10, 0), "@AcmeCare earlier week"),
        row(16, "AcmeCare", True, t(27, 18, 0), "@grace slow answer", 15),
    ]
    rows.append(row(15, "grace", False, t(25, 10, 0), "@AcmeCare earlier week"))  # an exact duplicate
    rows.append(["17", "henry", "True", "not a time", "@AcmeCare broken", "", ""])  # quarantined
    return rows


@pytest.fixture(scope="session")
def edge_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(warehouse, lake) of :func:`edge_rows`, through ``carepulse ingest`` and ``lake export``."""
    from tests.twcs_helpers import write_twcs

    folder = tmp_path_factory.mktemp("edge-lake")
    source = write_twcs(folder / "edges.csv", edge_rows())
    db, lake = folder / "edges.duckdb", folder / "lake"
    assert quiet("ingest", "twcs", str(source), "--db", str(db)) == 0
    assert quiet("lake", "export", "--db", str(db), "--out", str(lake)) == 0
    return db, lake


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two metric results differ; floats within 1e-9 (relative) are equal (sums over rows in
    another order differ in the last bits: 395177242.150447 vs ...449 follower-hours on the demo)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in dict.fromkeys([*a, *b]) for d in differences(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
        return []
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]
