"""The agent each first response signs, read once per snapshot instead of at every filter change.

A thread's agent is its CRM case's agent, else the sign-off ending its first response, as the configured
``agents.signature_patterns`` read it (``sources.THREADS``, breakdown ``agent``). Reading a sign-off means
reading the first response's text from ``tweets``, and an account's first responses are spread over the
whole table: DuckDB decompresses the text of every row group, 0.3-0.4 s of CPU per statement at 10 M tweets,
and the Team page asks two such statements at every filter change. The sign-offs change only with the data
(a new snapshot: new tweets, or CRM agent names, which the signature is matched against) and with the
patterns, so they are read once per snapshot and patterns for every thread, kept as a small Arrow table
(``tweet_id``, ``agent``; only responses that sign), and registered on each cursor whose statement needs
them (:data:`sources.FIRST_RESPONSE_AGENTS`, joined by ``sources.THREADS_SIGNED``). Where a cursor has no
snapshot identity (a database in memory, Spark) or asks for SQL to show (``--explain``), the statement
joins ``tweets`` as before: the same definition, written once in ``sources``.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import duckdb

from carepulse.metrics import snapshots
from carepulse.metrics.sources import FIRST_RESPONSE_AGENTS
from carepulse.metrics.sqltree import SIGNATURE_PATTERNS, statement

if TYPE_CHECKING:
    import pyarrow as pa

    from carepulse.metrics.context import Context

# The sign-offs of every first response, as the breakdown by agent reads them (sources.THREADS).
SIGNOFFS_SQL = """
SELECT tweet_id, agent FROM (
    SELECT fr.tweet_id, carepulse_signature(fr.text) AS agent
    FROM tweets fr WHERE fr.tweet_id IN (SELECT first_response_tweet_id FROM threads))
WHERE agent IS NOT NULL
"""
KEPT = 2  # the snapshot being read and the one before it (a cursor opened just before a load published)
_MEMO: OrderedDict[tuple[Any, ...], pa.Table] = OrderedDict()
_LOCK = threading.Lock()
_COMPUTING = threading.Lock()  # one reading at a time: two filter changes after a load wait for one read
# which memo each cursor has registered (a cursor asks once per relation, and a statement may need two)
_REGISTERED: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, tuple[Any, ...]] = weakref.WeakKeyDictionary()


def register(ctx: Context) -> bool:
    """Put the snapshot's sign-offs on ``ctx.con`` as :data:`FIRST_RESPONSE_AGENTS`; False where no memo applies
    (the statement then joins ``tweets``)."""
    if not ctx.memo or not isinstance(ctx.con, duckdb.DuckDBPyConnection):
        return False
    snapshot = snapshots.of(ctx)
    if snapshot is None:
        return False
    patterns = tuple(ctx.settings.agent_signature_patterns)
    key = (snapshot, patterns)
    if _REGISTERED.get(ctx.con) == key:
        return True
    # a statement whose one row was read with fetchone() leaves the cursor's result open, and DuckDB refuses other
    # work on such a cursor (a registration, a relation): a finished statement closes it (that row was read already)
    ctx.con.execute("SELECT 1").fetchall()
    table = _kept(key)
    if table is None:
        with _COMPUTING:
            table = _kept(key)
            if table is None:
                table = read(ctx.con, patterns)
                with _LOCK:
                    _MEMO[key] = table
                    while len(_MEMO) > KEPT:
                        _MEMO.popitem(last=False)
    ctx.con.register(FIRST_RESPONSE_AGENTS, table)
    _REGISTERED[ctx.con] = key
    return True


def read(con: duckdb.DuckDBPyConnection, patterns: tuple[str, ...]) -> pa.Table:
    """Every first response's sign-off, read through ``con`` (one join of the threads' first responses to
    their text)."""
    sql, params = statement(SIGNOFFS_SQL, {SIGNATURE_PATTERNS: patterns})
    return con.sql(sql, params=params).to_arrow_table()


def _kept(key: tuple[Any, ...]) -> pa.Table | None:
    with _LOCK:
        table = _MEMO.get(key)
        if table is not None:
            _MEMO.move_to_end(key)
        return table


def forget() -> None:
    """Drop every kept table (tests; a process that wants the memory back)."""
    with _LOCK:
        _MEMO.clear()
