"""The case-to-thread link of CRM cases, recomputed after every load of tweets or cases."""

from __future__ import annotations

from typing import Literal

import duckdb

from carepulse.core.errors import ConfigError
from carepulse.warehouse.delta import own, target

LinkMethod = Literal["conversation", "handle_window", "none"]
LINK_METHODS: tuple[LinkMethod, ...] = ("conversation", "handle_window", "none")


def link_crm_cases(con: duckdb.DuckDBPyConnection, window_hours: float) -> dict[str, int]:
    """(Re)compute the thread link of every case; return the number of cases per link method.

    Run after every load of tweets or cases, because either side may arrive first. Rules, in order
    (docs/crm.md): the conversation the case names (``conversation_ref`` is any tweet id of it, or
    the conversation id itself) -> that customer's thread there, else its earliest customer's
    thread: ``conversation``. Else the customer's thread (handle, case-insensitive, without '@')
    that started at most ``window_hours`` before the case was opened, the latest such:
    ``handle_window``. Else ``none``. Any channel can link: a phone case may name a handle.
    """
    if not window_hours >= 0:
        raise ConfigError(f"crm_link_window_hours must be a number >= 0, got {window_hours!r}")
    window_us = round(window_hours * 3_600_000_000)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE crm_link_result AS
        WITH cases AS (
            SELECT case_id, conversation_ref, opened_at,
                   nullif(lower(ltrim(trim(twitter_handle), '@')), '') AS handle_key
            FROM crm_cases
        ),
        thread_keys AS (
            SELECT thread_id, conversation_id, started_at,
                   lower(ltrim(trim(customer_handle), '@')) AS handle_key
            FROM threads
        ),
        tweet_conversation AS (
            SELECT tweet_id, min(conversation_id) AS conversation_id
            FROM tweets
            WHERE conversation_id IS NOT NULL
              AND tweet_id IN (SELECT conversation_ref FROM crm_cases)
            GROUP BY tweet_id
        ),
        named AS (
            SELECT c.case_id, c.handle_key,
                   coalesce(tc.conversation_id, tk.conversation_id) AS conversation_id
            FROM cases c
            LEFT JOIN tweet_conversation tc ON tc.tweet_id = c.conversation_ref
            LEFT JOIN (SELECT DISTINCT conversation_id FROM threads) tk
                   ON tk.conversation_id = c.conversation_ref
            WHERE c.conversation_ref IS NOT NULL
        ),
        by_conversation AS (
            SELECT n.case_id, th.thread_id, th.conversation_id
            FROM named n
            JOIN thread_keys th ON th.conversation_id = n.conversation_id
            QUALIFY row_number() OVER (
                PARTITION BY n.case_id
                ORDER BY (n.handle_key IS NOT NULL AND th.handle_key = n.handle_key) DESC,
                         th.started_at, th.thread_id
            ) = 1
        ),
        by_handle AS (
            SELECT c.case_id, th.thread_id, th.conversation_id
            FROM cases c
            JOIN thread_keys th ON th.handle_key = c.handle_key
            WHERE th.started_at <= c.opened_at
              AND c.opened_at <= th.started_at + to_microseconds({window_us}::BIGINT)
            QUALIFY row_number() OVER (
                PARTITION BY c.case_id ORDER BY th.started_at DESC, th.thread_id DESC
            ) = 1
        )
        SELECT c.case_id,
               CASE WHEN bc.case_id IS NOT NULL THEN 'conversation'
                    WHEN bh.case_id IS NOT NULL THEN 'handle_window'
                    ELSE 'none' END AS link_method,
               coalesce(bc.thread_id, bh.thread_id) AS linked_thread_id,
               CASE WHEN bc.case_id IS NOT NULL THEN bc.conversation_id ELSE bh.conversation_id END
                   AS linked_conversation_id
        FROM cases c
        LEFT JOIN by_conversation bc ON bc.case_id = c.case_id
        LEFT JOIN by_handle bh ON bh.case_id = c.case_id
    """)
    own(con, "crm_cases", """case_id IN (
        SELECT r.case_id FROM crm_link_result r JOIN crm_cases c USING (case_id)
        WHERE c.link_method IS DISTINCT FROM r.link_method OR c.linked_thread_id IS DISTINCT FROM r.linked_thread_id
           OR c.linked_conversation_id IS DISTINCT FROM r.linked_conversation_id)""")
    con.execute(f"""
        UPDATE {target(con, "crm_cases")} AS crm_cases
        SET link_method = r.link_method,
            linked_thread_id = r.linked_thread_id,
            linked_conversation_id = r.linked_conversation_id
        FROM crm_link_result r
        WHERE crm_cases.case_id = r.case_id
          AND (crm_cases.link_method IS DISTINCT FROM r.link_method
               OR crm_cases.linked_thread_id IS DISTINCT FROM r.linked_thread_id
               OR crm_cases.linked_conversation_id IS DISTINCT FROM r.linked_conversation_id)
    """)
    con.execute("DROP TABLE crm_link_result")
    counts: dict[str, int] = dict.fromkeys(LINK_METHODS, 0)
    for method, n in con.execute("SELECT link_method, count(*) FROM crm_cases GROUP BY ALL").fetchall():
        counts[str(method)] = int(n)
    return counts
