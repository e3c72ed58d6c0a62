-- carepulse warehouse schema. Public tables are documented column by column in docs/warehouse.md.
-- Idempotent: applied on every writer open, so new tables appear in old warehouses.

CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id         INTEGER PRIMARY KEY,
    batch_id       INTEGER NOT NULL,
    source         VARCHAR NOT NULL,
    file           VARCHAR NOT NULL,
    file_bytes     BIGINT,
    file_sha256    VARCHAR,
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ,
    records_read   BIGINT NOT NULL DEFAULT 0,
    loaded         BIGINT NOT NULL DEFAULT 0,
    updated        BIGINT NOT NULL DEFAULT 0,
    duplicate      BIGINT NOT NULL DEFAULT 0,
    quarantined    BIGINT NOT NULL DEFAULT 0,
    status         VARCHAR NOT NULL,
    message        VARCHAR
);

CREATE TABLE IF NOT EXISTS quarantine (
    run_id     INTEGER NOT NULL,
    source     VARCHAR NOT NULL,
    file       VARCHAR NOT NULL,
    line       BIGINT,
    record_no  BIGINT,
    reason     VARCHAR NOT NULL,
    raw        VARCHAR
);

CREATE TABLE IF NOT EXISTS accounts (
    handle_key VARCHAR PRIMARY KEY,
    handle     VARCHAR NOT NULL,
    author_id  VARCHAR,
    source     VARCHAR NOT NULL,
    added_run  INTEGER
);

CREATE TABLE IF NOT EXISTS users (
    author_id       VARCHAR PRIMARY KEY,
    handle          VARCHAR,
    name            VARCHAR,
    followers_count BIGINT,
    seen_at         TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS tweets (
    tweet_id             BIGINT NOT NULL,
    source               VARCHAR NOT NULL,
    author_id            VARCHAR NOT NULL,
    author_handle        VARCHAR NOT NULL,
    is_brand             BOOLEAN NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    -- ZSTD, not DuckDB's default DICT_FSST, for this column only: the texts are nearly all distinct, so the
    -- dictionary buys nothing, and writing them took DuckDB a quarter to a third longer with it (3 M tweets: a load
    -- 0.2-2.6 s faster in seven pairs, median 0.9 s; file 243 -> 176 MB). Ids and handles repeat: there the
    -- default wins (benchmarks/RESULTS.md, "Texts stored with ZSTD").
    text                 VARCHAR USING COMPRESSION zstd,
    lang                 VARCHAR,
    in_reply_to_tweet_id BIGINT,
    in_reply_to_user_id  VARCHAR,
    api_conversation_id  BIGINT,
    parent_id            BIGINT,
    conversation_id      BIGINT,
    author_followers     BIGINT,
    retweet_count        BIGINT,
    reply_count          BIGINT,
    like_count           BIGINT,
    quote_count          BIGINT,
    run_id               INTEGER NOT NULL,
    record_no            BIGINT,
    first_reply_at       TIMESTAMPTZ,
    first_reply_id       BIGINT,
    first_reply_by       VARCHAR
);

CREATE TABLE IF NOT EXISTS threads (
    thread_id                VARCHAR NOT NULL,
    conversation_id          BIGINT NOT NULL,
    customer_id              VARCHAR NOT NULL,
    customer_handle          VARCHAR NOT NULL,
    account                  VARCHAR,
    account_rule             VARCHAR,
    status                   VARCHAR NOT NULL,
    started_at               TIMESTAMPTZ NOT NULL,
    first_customer_tweet_id  BIGINT NOT NULL,
    first_response_at        TIMESTAMPTZ,
    first_response_tweet_id  BIGINT,
    first_response_seconds   DOUBLE,
    customer_tweets          INTEGER NOT NULL,
    brand_replies            INTEGER NOT NULL,
    conversation_tweets      INTEGER NOT NULL,
    last_customer_tweet_at   TIMESTAMPTZ NOT NULL,
    last_brand_reply_at      TIMESTAMPTZ,
    last_tweet_at            TIMESTAMPTZ NOT NULL,
    lang                     VARCHAR,
    customer_followers       BIGINT
);

CREATE TABLE IF NOT EXISTS crm_cases (
    case_id                VARCHAR NOT NULL,
    channel                VARCHAR NOT NULL,
    opened_at              TIMESTAMPTZ NOT NULL,
    closed_at              TIMESTAMPTZ,
    outcome                VARCHAR,
    customer_ref           VARCHAR,
    twitter_handle         VARCHAR,
    conversation_ref       BIGINT,
    agent                  VARCHAR,
    team                   VARCHAR,
    category               VARCHAR,
    handled_minutes        DOUBLE,
    csat                   INTEGER,
    nps                    INTEGER,
    link_method            VARCHAR NOT NULL DEFAULT 'none',
    linked_thread_id       VARCHAR,
    linked_conversation_id BIGINT,
    run_id                 INTEGER NOT NULL,
    record_no              BIGINT
);

CREATE TABLE IF NOT EXISTS pull_state (
    account   VARCHAR NOT NULL,
    endpoint  VARCHAR NOT NULL,
    newest_id BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, endpoint)
);

-- Named dashboard views (a page and its query), saved from the navbar; shared by everyone who reads
-- this warehouse. Written through the same publishing writer as a load.
CREATE TABLE IF NOT EXISTS saved_views (
    name       VARCHAR PRIMARY KEY,
    page       VARCHAR NOT NULL,
    query      VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Who may open the dashboard, and with which role (management < teamlead < analyst < admin; each includes
-- the ones before it). Only an argon2 hash of the password is kept. Written by `carepulse users` through the
-- publishing writer (carepulse/warehouse/dashboard_users.py); no rows: the dashboard has no login.
CREATE TABLE IF NOT EXISTS dashboard_users (
    name          VARCHAR PRIMARY KEY,
    role          VARCHAR NOT NULL,
    password_hash VARCHAR NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
