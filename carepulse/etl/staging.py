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

import duckdb

STAGING_DDL = """
CREATE OR REPLACE TEMP TABLE stg_tweets (
    run_id               INTEGER NOT NULL,
    record_no            BIGINT NOT NULL,
    line                 BIGINT,
    tweet_id             BIGINT,
    author_id            VARCHAR,
    author_handle        VARCHAR,
    inbound              BOOLEAN,
    created_at           TIMESTAMPTZ,
    text                 VARCHAR,
    lang                 VARCHAR,
    in_reply_to_tweet_id BIGINT,
    in_reply_to_user_id  VARCHAR,
    api_conversation_id  BIGINT,
    author_followers     BIGINT,
    retweet_count        BIGINT,
    reply_count          BIGINT,
    like_count           BIGINT,
    quote_count          BIGINT,
    reason               VARCHAR,
    raw                  VARCHAR
);
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


def create_staging(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create empty staging tables for one ingest batch."""
    con.execute(STAGING_DDL)
