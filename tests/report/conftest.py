"""Fixtures for the report tests: the demo warehouse (tweets and CRM cases) and the public TWCS sample
(tweets only), each built once per session through the real load path, and their reports rendered once
(the demo's in English and in German)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from carepulse.core.config import Settings


@pytest.fixture(scope="session")
def twcs_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from carepulse.etl.loader import ingest_tweets
    from carepulse.warehouse import Warehouse
    from tests.conftest import SHARED_SAMPLE

    path = tmp_path_factory.mktemp("report-twcs") / "twcs.duckdb"
    with contextlib.redirect_stdout(io.StringIO()):
        ingest_tweets(Warehouse(path), "twcs", [SHARED_SAMPLE], Settings(db=path))
    return path


@pytest.fixture(scope="session")
def demo_pdf(demo_db: Path) -> bytes:
    from carepulse.report import render_report
    from carepulse.warehouse import Warehouse

    return render_report("LAST-4-WEEKS", "pdf", db=Warehouse(demo_db).reader(), settings=Settings(db=demo_db),
                         language="en")


@pytest.fixture(scope="session")
def demo_pdf_de(demo_db: Path) -> bytes:
    """The demo's report in the configured language: German, the settings' default locale."""
    from carepulse.report import render_report
    from carepulse.warehouse import Warehouse

    return render_report("LAST-4-WEEKS", "pdf", db=Warehouse(demo_db).reader(), settings=Settings(db=demo_db))
