"""``spark-submit "$(carepulse lake job)" lake ingest ...``: carepulse as a Spark application.

One real ``spark-submit`` (pyspark's launcher, its own JVM, the master given on its command line) loads the
public sample into a lake; the lake's threads must be the warehouse's. The session factory must keep
the launcher's settings (``PYSPARK_GATEWAY_PORT``), which the job shows by running with
``--master local[1]`` (the report names where it ran) under the application name the launcher gave.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from carepulse.cli import spark_job
from tests.spark.test_lake_ingest import same_tables

pytestmark = pytest.mark.spark


def test_the_job_arguments_are_lake_commands_on_spark() -> None:
    assert spark_job.arguments(["lake", "ingest", "twcs", "f.csv", "--lake", "l"]) == [
        "lake", "ingest", "twcs", "f.csv", "--lake", "l", "--engine", "spark"]
    assert spark_job.arguments(["metrics", "--lake", "l", "--engine", "duckdb", "--by", "account"]) == [
        "metrics", "--lake", "l", "--by", "account", "--engine", "spark"]
    assert spark_job.arguments(["metrics", "--db", "x.duckdb"]) is None
    assert spark_job.arguments(["serve"]) is None
    assert spark_job.main(["demo"]) == 2


def test_spark_submit_runs_the_lake_ingest(sample_lake: tuple[Path, Path], tmp_path: Path, spark: Any) -> None:
    from tests.conftest import SHARED_SAMPLE

    db, _ = sample_lake
    lake = tmp_path / "lake"
    submit = Path(sys.executable).with_name("spark-submit")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    done = subprocess.run(
        [str(submit), "--master", "local[1]", "--name", "carepulse-job-test", "--conf", "spark.ui.enabled=false",
         "--driver-java-options", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC", spark_job.__file__,
         "lake", "ingest", "twcs", str(SHARED_SAMPLE), "--lake", str(lake)],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0].endswith("read 1,000 = loaded 1,000 + duplicate 0 + quarantined 0")
    assert "1,000 tweets, 281 threads (263 answered)" in lines[1]
    assert "on spark local[1] " in lines[1]  # the launcher's master stood, not the factory's local[2]
    assert "Submitted application: carepulse-job-test" in done.stderr  # and its name
    same_tables(db, lake)
