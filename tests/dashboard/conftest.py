"""Fixtures for the dashboard tests: real warehouses, built once per session, and the configured app state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from carepulse.core.config import Settings
from carepulse.dashboard import state


@pytest.fixture(scope="session")
def twcs_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tweets only (the public TWCS sample plus two broken rows), no CRM cases: the empty states show."""
    from carepulse.etl.loader import ingest_tweets
    from carepulse.warehouse import Warehouse
    from tests.conftest import SHARED_SAMPLE

    folder = tmp_path_factory.mktemp("twcs")
    broken = folder / "broken.csv"
    broken.write_text(
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        "1,alice,True,yesterday,@brand =HYPERLINK(\"http://x\"),,\n"
        "2,bob,True,Tue Oct 31 22:10:47 +0000 2017,hello,,\n"
        "x,carol,True,Tue Oct 31 22:11:47 +0000 2017,not an id,,\n", encoding="utf-8")
    path = folder / "twcs.duckdb"
    ingest_tweets(Warehouse(path), "twcs", [SHARED_SAMPLE, broken], Settings(db=path))
    return path


@pytest.fixture
def demo_state(demo_db: Path) -> Iterator[state.DashboardState]:
    yield state.configure(demo_db, Settings(db=demo_db))


@pytest.fixture
def twcs_state(twcs_db: Path) -> Iterator[state.DashboardState]:
    yield state.configure(twcs_db, Settings(db=twcs_db, locale="en"))
