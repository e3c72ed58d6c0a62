"""The agents' sign-offs read once per snapshot (metrics.signoffs) give what the join to the texts gives."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_tweets
from carepulse.metrics import breaches, engine, signoffs, views
from carepulse.metrics.context import Filters
from carepulse.metrics.sources import FIRST_RESPONSE_AGENTS
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import FIXTURE_A, TH, load_twcs
from tests.twcs_helpers import at, row, write_twcs

METRICS = ["threads", "answered_threads", "first_response_median_s", "sla_met_share"]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every time the sign-offs are read from the texts (a fresh memo for each test)."""
    signoffs.forget()
    seen: list[tuple[str, ...]] = []
    real = signoffs.read

    def counted(con: object, patterns: tuple[str, ...]) -> object:
        seen.append(patterns)
        return real(con, patterns)  # type: ignore[arg-type]

    monkeypatch.setattr(signoffs, "read", counted)
    yield seen
    signoffs.forget()


def _without_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signoffs, "register", lambda ctx: False)


def test_every_agent_answer_equals_the_join_to_the_texts(demo_db: Path, reads: list[tuple[str, ...]],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo: CRM agents, sign-offs bridged to CRM names, unsigned responses; by agent, filtered by an agent
    and by an account, the breaches by agent and hour, the agents table: the same with the memo and without."""
    settings = Settings(db=demo_db)
    reader = Warehouse(demo_db).reader()
    by_agent = engine.query(METRICS, by="agent", db=reader, settings=settings)
    agents = [a for a in by_agent["agent"] if not a.startswith("(")]
    assert len(agents) >= 3
    answers = {
        "by agent": by_agent,
        "one agent": engine.query(METRICS, by="account", filters=Filters(agent=agents[0]), db=reader,
                                  settings=settings),
        "agents table": views.agent_speed(db=reader, settings=settings),
        # filtered by the agent it groups by, in business hours: two relations on one cursor with a statement
        # between them (the calendar's start, read with fetchone) that leaves the cursor's result open
        "agents table, one agent": views.agent_speed(Filters(agent=agents[0]), db=reader, settings=settings),
    }
    breached = breaches.sla_breaches(db=reader, settings=settings)
    assert len(reads) == 1  # read once for all of them: one snapshot, one set of patterns
    _without_memo(monkeypatch)
    assert engine.query(METRICS, by="agent", db=reader, settings=settings).equals(answers["by agent"])
    assert engine.query(METRICS, by="account", filters=Filters(agent=agents[0]), db=reader,
                        settings=settings).equals(answers["one agent"])
    assert views.agent_speed(db=reader, settings=settings).equals(answers["agents table"])
    assert views.agent_speed(Filters(agent=agents[0]), db=reader, settings=settings).equals(
        answers["agents table, one agent"])
    assert len(answers["agents table, one agent"]) == 1
    assert breaches.sla_breaches(db=reader, settings=settings) == breached
    assert len(reads) == 1


def test_a_new_load_or_other_patterns_are_read_again(tmp_path: Path, reads: list[tuple[str, ...]],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(db=tmp_path / "wh.duckdb")
    warehouse = load_twcs(tmp_path, FIXTURE_A, settings)
    names = lambda s: sorted(views.agent_speed(db=warehouse.reader(), settings=s)["agent"])  # noqa: E731
    assert names(settings) == ["AB", "Becky", "KMG", "SR", "ab"]
    assert names(settings) == ["AB", "Becky", "KMG", "SR", "ab"] and len(reads) == 1
    # a reply signed by a new agent: a new snapshot, so the sign-offs are read again and the agent is there
    ingest_tweets(warehouse, "twcs", [write_twcs(tmp_path / "more.csv", [
        row(90, "c90", False, at("10:00", day=1), "@TH hello?", None),
        row(91, TH, True, at("10:05", day=1), "@c90 Hi! ^ZZ", 90)])], settings)
    assert "ZZ" in names(settings) and len(reads) == 2
    # only the ^XY sign-offs: other patterns, another memo
    caret = replace(settings, agent_signature_patterns=(r"\^\s?([A-Z]{2,3})\s*$",))
    assert names(caret) == ["AB", "KMG", "ZZ"] and len(reads) == 3
    assert reads[-1] == caret.agent_signature_patterns
    _without_memo(monkeypatch)
    assert names(caret) == ["AB", "KMG", "ZZ"] and "ZZ" in names(settings)


def test_explain_shows_sql_that_runs_anywhere(demo_db: Path, reads: list[tuple[str, ...]]) -> None:
    """``--explain`` SQL is to be pasted into duckdb: it joins the texts, not a table only this process has."""
    text = engine.explain("first_response_median_s", by="agent", db=Warehouse(demo_db).reader(),
                          settings=Settings(db=demo_db))
    assert FIRST_RESPONSE_AGENTS not in text
    assert "LEFT JOIN tweets AS fr" in text
    assert reads == []


def test_a_cursor_with_an_open_result_gets_the_memo(demo_db: Path, reads: list[tuple[str, ...]]) -> None:
    """A cursor whose last statement's one row was read with fetchone() (its result still open) can be read
    from and registered on. The cursors look their snapshot up first (it is kept per cursor), as a metric
    function's cursor has when it builds its second relation."""
    from datetime import UTC, datetime

    from carepulse.metrics import snapshots
    from carepulse.metrics.context import Context

    settings = Settings(db=demo_db)

    def open_cursor() -> Context:
        ctx = Context(Warehouse(demo_db).reader().connection(), settings, datetime(2030, 1, 1, tzinfo=UTC))
        assert snapshots.of(ctx) is not None
        assert ctx.con.execute("SELECT max(created_at) FROM tweets").fetchone()  # leaves the result open
        return ctx

    first = open_cursor()
    assert signoffs.register(first) and len(reads) == 1  # read and registered there
    second = open_cursor()
    assert signoffs.register(second) and len(reads) == 1  # registered there from the memo
    counts = [c.con.execute(f"SELECT count(*) FROM {FIRST_RESPONSE_AGENTS}").fetchall() for c in (first, second)]
    assert counts[0] == counts[1] and counts[0][0][0] > 0
