"""The staging tables every tweet source fills; the shared loader takes it from there.

A tweet source's ``stage(con, path, run_id)`` parses one file, inserts each good record into
``stg_tweets``, each unparseable record into ``stg_quarantine`` (with line or record number and
the reason), each user object it sees into ``stg_users``, and returns how many records it read.
A source that validates set-wise may instead put a bad record into ``stg_tweets`` with ``reason``
(and ``raw``) set: the loader moves such rows to the quarantine. That saves a second copy of
millions of rows when one SQL pass both parses and validates.
Records are tweets: a twarc2 page line holding 100 tweets is 100 records. A line that is not
JSON at all is one quarantined record.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import duckdb

from carepulse.etl.resource import Resource

STG_TWEETS: tuple[tuple[str, str], ...] = (
    ("run_id", "INTEGER NOT NULL"),
    ("record_no", "BIGINT NOT NULL"),
    ("line", "BIGINT"),
    ("tweet_id", "BIGINT"),
    ("author_id", "VARCHAR"),
    ("author_handle", "VARCHAR"),
    ("inbound", "BOOLEAN"),
    ("created_at", "TIMESTAMPTZ"),
    ("text", "VARCHAR"),
    ("lang", "VARCHAR"),
    ("in_reply_to_tweet_id", "BIGINT"),
    ("in_reply_to_user_id", "VARCHAR"),
    ("api_conversation_id", "BIGINT"),
    ("author_followers", "BIGINT"),
    ("retweet_count", "BIGINT"),
    ("reply_count", "BIGINT"),
    ("like_count", "BIGINT"),
    ("quote_count", "BIGINT"),
    ("reason", "VARCHAR"),
    ("raw", "VARCHAR"),
)
"""The columns of ``stg_tweets``, in order; a source fills some of them (:attr:`Resource.staged_columns`)."""

OTHER_STAGING_DDL = """
CREATE OR REPLACE TEMP TABLE stg_users (
    run_id          INTEGER NOT NULL,
    author_id       VARCHAR NOT NULL,
    handle          VARCHAR,
    name            VARCHAR,
    followers_count BIGINT,
    seen_at         TIMESTAMPTZ
);
CREATE OR REPLACE TEMP TABLE stg_quarantine (
    run_id    INTEGER NOT NULL,
    line      BIGINT,
    record_no BIGINT,
    reason    VARCHAR NOT NULL,
    raw       VARCHAR
);
"""


def stg_tweets_ddl(filled: Collection[str] | None = None, aliases: Mapping[str, str] | None = None) -> str:
    """``CREATE TEMP TABLE stg_tweets``; a column the source never fills (not in ``filled``) is a virtual
    column that reads NULL, and one that always equals another (``aliases``: column -> the other) a
    virtual copy of it.

    A staged row of a plain column costs its width whether it holds a value or not (a temporary table is
    not compressed): the eight API-only columns TWCS leaves empty took 80 bytes a record, 240 MB of a
    3 M-tweet load's staging, which then spilled to disk under the load's memory limit. A virtual
    column takes no space and reads the same NULL everywhere the loader looks.
    """
    columns = []
    aliases = aliases or {}
    for name, kind in STG_TWEETS:
        if name in aliases:
            columns.append(f"{name} {kind} GENERATED ALWAYS AS ({aliases[name]}) VIRTUAL")
        elif filled is None or name in filled or "NOT NULL" in kind:
            columns.append(f"{name} {kind}")
        else:
            columns.append(f"{name} {kind} GENERATED ALWAYS AS (NULL::{kind}) VIRTUAL")
    return "CREATE OR REPLACE TEMP TABLE stg_tweets (\n    " + ",\n    ".join(columns) + "\n)"


def create_staging(con: duckdb.DuckDBPyConnection, source: Resource | None = None) -> None:
    """(Re)create empty staging tables for one ingest batch of ``source`` (None: every column staged),
    with the columns it does not fill virtual (see :func:`stg_tweets_ddl`)."""
    if source is None:
        con.execute(stg_tweets_ddl())
    else:
        con.execute(stg_tweets_ddl(source.staged_columns, dict(source.staged_aliases)))
    con.execute(OTHER_STAGING_DDL)
