"""The engine's half of a lake ingest: touched conversations, roots, threads, and the files to publish.

Every step is a statement of :mod:`carepulse.etl.lake_sql` kept as a named relation on the engine
(``LakeWork.materialise``), so DuckDB and Spark run the same statements and an iterated step does not
drag its history along. Roots come from pointer jumping: each pass doubles how far each tweet's pointer
reaches, so a reply chain of depth ``d`` needs ``ceil(log2(d)) + 1`` passes; the passes stop as
:func:`carepulse.etl.transform.graph.link` stops them, when no more tweets reach a root. What is left hangs
on reply cycles: those few tweets go to the driver, where ``graph.link`` itself picks each cycle's earliest
tweet (time, then id) to become a root, and the jumping starts again without those links.

The results leave as Parquet written by the engine into the work folder, per table: ``rewrite/`` (whole
months holding a replaced row: the lake's other rows of the month plus the new ones) and ``append/``
(new rows of months nothing was replaced in). :mod:`carepulse.etl.lake_ingest` swaps them in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from carepulse.etl import lake_sql as q
from carepulse.etl.transform import graph
from carepulse.warehouse.delta import ANSWERED
from carepulse.warehouse.engines.base import LakeWork
from carepulse.warehouse.lake import TABLES, Lake

INPUTS = ("batch", "new_brand_authors", "accounts")  # batch_ids: attached by the staging, for the twins


@dataclass
class Rebuilt:
    """What the engine did: for the report, the manifest and the tests."""

    conversations: int = 0
    threads: int = 0
    passes: int = 0
    cycles_broken: int = 0
    tweets: int = 0
    threads_total: int = 0
    answered_total: int = 0
    months: dict[str, list[str]] = field(default_factory=dict)  # table -> months rewritten


def _count(engine: LakeWork, sql: str) -> int:
    table = engine.arrow(sql)
    return int(table.column(0)[0].as_py() or 0) if table.num_rows else 0


Say = Callable[[str], None]


def _quiet(_text: str) -> None:
    return None


def _jumped(engine: LakeWork, say: Say) -> tuple[str, int]:
    """Pointer jumping on ``links`` until no more tweets reach a root; (the last pass's relation, passes)."""
    names = ("jump_0", "jump_1")
    engine.materialise(names[0], q.JUMP_START)
    current, before, passes = 0, -1, 0
    for _ in range(graph.MAX_JUMPS):
        pending = _count(engine, q.PENDING.format(source=names[current]))
        if pending == 0 or pending == before:
            break
        before, passes = pending, passes + 1
        say(f"pointer jumping, pass {passes}: {pending:,} tweets not at their root yet")
        engine.materialise(names[1 - current], q.JUMP.format(source=names[current]))
        current = 1 - current
    return names[current], passes


def cycle_roots(stuck: pa.Table) -> list[int]:
    """The tweets that become roots: the earliest (time, then id) of each reply cycle among ``stuck`` (the
    tweets whose pointers never reach a root, and so are closed under parent links), by ``graph.link``."""
    ids = stuck.column("tweet_id").to_numpy().astype(np.int64)
    reply_to = stuck.column("parent").to_numpy().astype(np.int64)
    time_us = pc.cast(pc.cast(stuck.column("created_at"), pa.timestamp("us", tz="UTC")), pa.int64())
    links = graph.link(ids, reply_to, np.ones(len(ids), dtype=np.bool_), time_us.to_numpy().astype(np.int64),
                       np.zeros(len(ids), dtype=np.bool_))
    return sorted(int(i) for i in ids[links.parent < 0])


def _roots(engine: LakeWork, done: Rebuilt, say: Say) -> str:
    """Parents and roots of ``work``, reply cycles broken; the relation holding (tweet_id, parent, anc)."""
    cut: list[int] = []
    while True:
        engine.materialise("links", q.parents_sql(cut))
        jumps, passes = _jumped(engine, say)
        done.passes += passes
        stuck = engine.arrow(q.STUCK.format(source=jumps))
        if not stuck.num_rows:
            break
        roots = cycle_roots(stuck)
        if not roots:
            raise RuntimeError("reply links still cycle after breaking every cycle")
        cut.extend(roots)  # graph.link has logged them, as the warehouse's load does
    done.cycles_broken = len(cut)
    return jumps


def _replace(engine: LakeWork, lake: Lake, table: str, key: str, removed: str, added: str, out: Path) -> list[str]:
    """Write ``table``'s new files: months holding a removed key rewritten whole, other added rows appended."""
    time_column, order = TABLES[table]
    assert time_column is not None
    months = f"{table}_months"
    engine.materialise(months, q.months_sql(table, time_column, key, removed))
    rewritten = sorted(str(m) for m in engine.arrow(f"SELECT month FROM {months}").column(0).to_pylist())
    if not rewritten:  # the common case for tweets: only new rows, each month gets a file more
        engine.write(added, out / table / "append", order, "month")
        return []
    engine.materialise(f"{table}_rewrite", q.kept_rows_sql(table, lake.columns(table), time_column, key, removed,
                                                           months, added))
    engine.materialise(f"{table}_append", q.appended_sql(added, months))
    engine.write(f"{table}_rewrite", out / table / "rewrite", order, "month")
    engine.write(f"{table}_append", out / table / "append", order, "month")
    return rewritten


def rebuild(engine: LakeWork, lake: Lake, inputs: Path, out: Path, loaded: int, say: Say = _quiet) -> Rebuilt:
    """Rebuild the touched conversations of the batch in ``inputs`` and write their files under ``out``;
    ``say``: where each step is announced (a progress line; a pass of a long rebuild takes a while)."""
    for name in INPUTS:
        engine.attach(name, inputs / name)
    done = Rebuilt()
    known = lake.manifest()["tables"]["tweets"].get("rows")  # export and ingest keep it
    tweets_before = int(known) if known is not None else _count(engine, "SELECT count(*) FROM tweets")
    engine.materialise("touched", q.touched_sql())
    engine.materialise("work", q.WORK)
    if not _count(engine, "SELECT count(*) FROM work"):
        done.tweets = tweets_before
        done.threads_total, done.answered_total = _thread_totals(engine, None)
        return done
    jumps = _roots(engine, done, say)
    say("threads of the touched conversations")
    engine.materialise("linked", q.LINKED.format(jumps=jumps))
    engine.materialise("computed", q.COMPUTED_SQL)
    engine.materialise("relinked", q.RELINKED)
    engine.materialise("rebuilt", q.THREADS)
    engine.materialise("removed", q.REMOVED_CONVERSATIONS)
    engine.materialise("tweets_added", q.new_tweets_sql(lake.columns("tweets")))
    engine.materialise("threads_added", q.typed(lake.columns("threads"), "rebuilt s", "started_at"))
    say("writing the changed months")
    done.months["tweets"] = _replace(engine, lake, "tweets", "tweet_id", "relinked", "tweets_added", out)
    done.months["threads"] = _replace(engine, lake, "threads", "conversation_id", "removed", "threads_added", out)
    done.conversations = _count(engine, "SELECT count(DISTINCT conversation_id) FROM linked")
    done.threads = _count(engine, "SELECT count(*) FROM rebuilt")
    done.tweets = tweets_before + loaded
    done.threads_total, done.answered_total = _thread_totals(engine, "removed")
    return done


def _thread_totals(engine: LakeWork, removed: str | None) -> tuple[int, int]:
    """(threads, answered threads) of the lake once the rebuilt threads replace the removed conversations'."""
    kept = "SELECT status FROM threads"
    if removed:
        kept += f" WHERE conversation_id NOT IN (SELECT conversation_id FROM {removed}) UNION ALL " \
                "SELECT status FROM rebuilt"
    row = engine.arrow(f"SELECT count(*), count(*) FILTER (WHERE {ANSWERED}) FROM ({kept}) s")
    return int(row.column(0)[0].as_py()), int(row.column(1)[0].as_py())
