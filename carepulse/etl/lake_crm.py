"""CRM cases on a lake: ``carepulse lake ingest crm`` and the case-to-thread link after a tweet load.

CRM exports are small (one row per case, not per tweet), so the whole of ``crm_cases`` is staged in an
in-memory DuckDB on the driver, where the warehouse's own code reads, validates, dedupes and quarantines
the files (:func:`carepulse.etl.sources.crm.files.load_crm_files`) and links every case to its thread
(:func:`carepulse.etl.transform.crm_links.link_crm_cases`): the rules and the accounting cannot drift
from ``carepulse ingest crm``. The link needs only four columns of ``threads`` and the conversation of the
tweets the cases name; those come from the engine (DuckDB or Spark over the lake), so a lake too large
for one machine still links on one. The table is then written whole, month by month, and switched in.

A tweet load changes threads, so it re-links the lake's cases as the warehouse's load does
(:func:`relink`, with the threads as they will be once the rebuilt ones replace the removed ones).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from carepulse.core.config import Settings
from carepulse.etl import lake_files as li
from carepulse.etl.lake_rebuild import Rebuilt
from carepulse.etl.runs import FileReport, check_readable, next_ids
from carepulse.etl.sources.crm.files import load_crm_files
from carepulse.etl.sources.crm.mapping import load_mapping
from carepulse.etl.transform.crm_links import LINK_METHODS, link_crm_cases
from carepulse.warehouse.engines.base import LakeWork
from carepulse.warehouse.lake import copy_table, unchanged_on_failure

THREAD_KEYS = "SELECT thread_id, conversation_id, started_at, customer_handle FROM threads"
# After a rebuild (lake_rebuild's relations): the lake's threads of untouched conversations plus the new ones.
THREAD_KEYS_REBUILT = (THREAD_KEYS + " WHERE conversation_id NOT IN (SELECT conversation_id FROM removed) "
                       "UNION ALL SELECT thread_id, conversation_id, started_at, customer_handle FROM rebuilt")
NAMED_TWEETS = ("SELECT tweet_id, conversation_id FROM tweets "
                "WHERE tweet_id IN (SELECT conversation_ref FROM case_refs)")
# ``computed`` holds every new tweet and every loaded one whose conversation changed.
NAMED_TWEETS_REBUILT = (NAMED_TWEETS + " AND tweet_id NOT IN (SELECT tweet_id FROM computed) UNION ALL "
                        "SELECT tweet_id, conversation_id FROM computed "
                        "WHERE tweet_id IN (SELECT conversation_ref FROM case_refs)")


@dataclass
class CrmLakeReport:
    """What one ``lake ingest crm`` did, for the CLI and the tests."""

    lake: Path
    engine: str
    files: list[FileReport]
    links: dict[str, int] = field(default_factory=dict)
    cases: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        links = ", ".join(f"{method} {self.links.get(method, 0):,}" for method in LINK_METHODS)
        return [f.line() for f in self.files] + [
            f"lake {self.lake}: {self.cases:,} CRM cases, linked to threads by {links}; "
            f"on {self.engine} in {self.seconds:.2f} s"]


def relink(engine: LakeWork, con: duckdb.DuckDBPyConnection, settings: Settings, work: Path,
           rebuilt: bool) -> dict[str, int]:
    """Link every case of the staging ``crm_cases`` to its thread with the threads of the lake (``rebuilt``:
    as they will be after the rebuild whose relations the engine holds). The staging database's
    ``threads`` and ``tweets`` are replaced by the columns the link reads."""
    folder = work / "case_refs"
    li.copy_rows(con, "SELECT DISTINCT conversation_ref FROM crm_cases WHERE conversation_ref IS NOT NULL", folder)
    engine.attach("case_refs", folder)
    for table, sql in (("threads", THREAD_KEYS_REBUILT if rebuilt else THREAD_KEYS),
                       ("tweets", NAMED_TWEETS_REBUILT if rebuilt else NAMED_TWEETS)):
        rows = engine.arrow(sql)
        con.register("pulled", rows)
        try:
            con.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM pulled")
        finally:
            con.unregister("pulled")
    return link_crm_cases(con, settings.crm_link_window_hours)


def stage_cases(engine: LakeWork, con: duckdb.DuckDBPyConnection) -> None:
    """The lake's cases into the staging database (where a tweet or CRM load changes and re-links them)."""
    li.pull(engine, con, "crm_cases")


def write_cases(con: duckdb.DuckDBPyConnection, out: Path) -> int:
    """The whole ``crm_cases`` of the staging database as the lake's month partitions under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    return copy_table(con, "crm_cases", out).rows


def ingest_crm_lake(lake: Path | str, files: Sequence[Path], mapping_path: Path | None, settings: Settings,
                    engine: str = "duckdb", spark: Any = None) -> CrmLakeReport:
    """Load CRM exports into the lake at ``lake`` (created when missing) and link every case to its thread."""
    started = time.perf_counter()
    path = Path(lake).resolve()
    for file in files:
        check_readable(Path(file))
    mapping = load_mapping(mapping_path) if mapping_path else None
    with li.locked(path):
        li.create_if_missing(path)
        work = path.with_name(f".{path.name}.{os.getpid()}.ingesting")
        opened = li.open_engine(path, engine, spark)
        where = opened.label()
        con = duckdb.connect(":memory:")
        try:
            try:
                with unchanged_on_failure("lake ingest", path):
                    con.execute("SET TimeZone = 'UTC'")
                    li.stage_small(opened, con)
                    stage_cases(opened, con)
                    first_run, batch_id = next_ids(con)
                    reports = load_crm_files(con, [Path(f) for f in files], mapping, first_run, batch_id)
                    links = relink(opened, con, settings, work / "in", rebuilt=False)
                    cases = write_cases(con, work / "out")
                    li.write_small(con, work / "in")
            finally:
                con.close()
                if engine == "duckdb":
                    opened.close()
            li.publish(opened.lake, work, Rebuilt(), batch_id, cases=cases)
        finally:
            li.clean(work)
    return CrmLakeReport(path, where, reports, links, cases, time.perf_counter() - started)
