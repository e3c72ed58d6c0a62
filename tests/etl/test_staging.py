"""Staging holds what a source fills, and nothing for the columns it cannot fill.

TWCS records have no language, counts or API conversation ids; staged as plain columns those cells cost
their width for every record (a temporary table is not compressed), which pushed a 3 M-tweet load's staging
past its memory limit and onto disk. They are virtual NULL columns now: the loader reads the same NULLs.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from carepulse.core.config import Settings
from carepulse.etl import loader, registry, staging
from carepulse.etl.resource import Resource
from carepulse.etl.sources.twcs.reader import STAGED_COLUMNS
from carepulse.etl.staging import STG_TWEETS, create_staging
from carepulse.warehouse import Warehouse


def _staged_bytes(source: Resource | None) -> int:
    con = duckdb.connect()
    create_staging(con, source)
    con.execute("INSERT INTO stg_tweets (run_id, record_no, tweet_id, author_id, text) "
                "SELECT 1, i, i, 'a' || i, 'a tweet of some length, as tweets are' FROM range(300000) t(i)")
    (used,), = con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory() "
                           "WHERE tag = 'IN_MEMORY_TABLE'").fetchall()
    lang, counts = con.execute("SELECT count(lang), count(like_count) FROM stg_tweets").fetchall()[0]
    assert (lang, counts) == (0, 0)  # an unfilled column reads NULL, as before
    con.close()
    return int(used)


def test_columns_a_source_does_not_fill_take_no_memory() -> None:
    whole, twcs = _staged_bytes(None), _staged_bytes(registry.tweet_source("twcs"))
    assert twcs < 0.7 * whole  # eight empty columns of 8-16 bytes a record, and the handle, gone


def test_a_twcs_handle_is_its_author_id() -> None:
    con = duckdb.connect()
    create_staging(con, registry.tweet_source("twcs"))
    con.execute("INSERT INTO stg_tweets (run_id, record_no, author_id) VALUES (1, 1, 'sprintcare'), (1, 2, NULL)")
    assert con.execute("SELECT author_handle FROM stg_tweets ORDER BY record_no").fetchall() == [("sprintcare",),
                                                                                                (None,)]


def test_each_tweet_source_declares_what_it_stages() -> None:
    names = {name for name, _ in STG_TWEETS}
    twcs = registry.tweet_source("twcs").staged_columns
    assert twcs is not None and twcs <= names and {"lang", "like_count", "api_conversation_id"}.isdisjoint(twcs)
    assert tuple(name for name in STAGED_COLUMNS if name in twcs) == STAGED_COLUMNS  # its INSERT names them
    assert registry.tweet_source("jsonl").staged_columns is None  # the API fills them all


def test_a_twcs_load_reads_the_same_with_virtual_columns(tmp_path: Path, shared_sample: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample loaded through the sparse staging equals a load with every column staged."""
    tables = {}
    whole_ddl = staging.stg_tweets_ddl
    for name in ("sparse", "whole"):
        if name == "whole":
            monkeypatch.setattr(staging, "stg_tweets_ddl", lambda filled=None, aliases=None: whole_ddl())
        db = tmp_path / f"{name}.duckdb"
        loader.ingest_tweets(Warehouse(db), "twcs", [shared_sample], Settings(db=db))
        with duckdb.connect(str(db), read_only=True) as con:
            tables[name] = [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("tweets", "threads")]
    assert tables["sparse"] == tables["whole"]
    assert len(tables["sparse"][0]) == 1000
