"""Signatures (^AB) and CRM names ("A. Becker") name the same agent once, and only when unambiguous."""

from __future__ import annotations

from pathlib import Path

from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_crm, ingest_tweets
from carepulse.metrics import engine
from carepulse.warehouse import Warehouse
from tests.twcs_helpers import at, row, write_twcs

TWEETS = [
    row(1, "c1", False, at("10:00"), "@acme help"),
    row(2, "acme", True, at("10:10"), "@c1 on it ^AB", parent=1),  # Becker, 600 s
    row(3, "c2", False, at("11:00"), "@acme help"),
    row(4, "acme", True, at("11:20"), "@c2 sure ^MS", parent=3),  # Schulz or Schmidt: ambiguous, 1,200 s
    row(5, "c3", False, at("12:00"), "@acme help"),
    row(6, "acme", True, at("12:30"), "@c3 done ^KL", parent=5),  # no CRM agent with K.L.: stays KL, 1,800 s
]
CRM = """case_id,channel,opened_at,agent
T1,twitter,2017-10-31T10:20:00Z,A. Becker
T2,twitter,2017-11-01T10:00:00Z,M. Schulz
T3,twitter,2017-11-01T11:00:00Z,M. Schmidt
P1,phone,2017-11-01T12:00:00Z,K. Lang
"""


def test_signatures_take_the_crm_name_when_exactly_one_twitter_agent_has_those_initials(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "w.duckdb")
    warehouse = Warehouse(settings.db)
    ingest_tweets(warehouse, "twcs", [write_twcs(tmp_path / "t.csv", TWEETS)], settings)
    (tmp_path / "crm.csv").write_text(CRM, encoding="utf-8")
    ingest_crm(warehouse, [tmp_path / "crm.csv"], None, settings)
    table = engine.agent_table(db=warehouse.reader(), settings=settings)
    medians = {r.agent: r.first_response_median_s for r in table.itertuples() if r.answered_threads}
    # AB -> "A. Becker" (the only Twitter agent A... B...); MS matches two Twitter agents and stays;
    # KL matches only a phone agent, and hotline names are not Twitter sign-offs: it stays.
    assert medians == {"A. Becker": 600.0, "MS": 1200.0, "KL": 1800.0}
