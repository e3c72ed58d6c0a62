"""``carepulse lake ingest``: raw tweet files into a lake, threads rebuilt on DuckDB or Spark.

Two halves. **Staging** runs in an in-memory DuckDB with the warehouse's own code: the source module
parses and validates each file, and the loader's steps (quarantine, brand accounts, duplicates within
the batch and against the lake, the run log) run as they do for ``carepulse ingest``, so the rules and
the accounting (``read = loaded + duplicate + quarantined``) cannot drift. The only lake-specific part
is where "already loaded" comes from: the engine looks up the batch's ids in the lake's tweets and hands
back those twins, which the loader's dedupe then reads as its ``tweets``. **The rebuild** runs on the
engine (:mod:`carepulse.etl.lake_rebuild`): the good rows go to it as Parquet in a work folder beside
the lake, and it writes the new files there. Then everything is switched in with renames, the
manifest last (docs/scale.md, "Ingest on the lake", says what a crash in between leaves).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from carepulse.core import progress
from carepulse.core.config import Settings
from carepulse.core.errors import ResourceError, describe_failure, first_line
from carepulse.etl import lake_sql
from carepulse.etl.lake_crm import relink, stage_cases, write_cases
from carepulse.etl.lake_files import (
    clean,
    copy_rows,
    create_if_missing,
    locked,
    open_engine,
    publish,
    stage_small,
    write_small,
)
from carepulse.etl.lake_rebuild import Rebuilt, rebuild
from carepulse.etl.loader import (
    _account_for,
    _classify,
    _quarantine_invalid,
    _register_accounts,
    _select_new,
    _unknown_authors,
    _write_runs,
)
from carepulse.etl.registry import tweet_source
from carepulse.etl.runs import FileReport, check_readable, next_ids
from carepulse.etl.staging import create_staging
from carepulse.warehouse.engines.base import LakeWork
from carepulse.warehouse.lake import Lake, unchanged_on_failure
from carepulse.warehouse.store import apply_schema

# The new tweets with every column of ``tweets`` (the rebuild fills the computed ones), as _insert_new has them.
BATCH_SQL = """
INSERT INTO batch (tweet_id, source, author_id, author_handle, is_brand, created_at, text, lang,
                   in_reply_to_tweet_id, in_reply_to_user_id, api_conversation_id, author_followers,
                   retweet_count, reply_count, like_count, quote_count, run_id, record_no)
SELECT n.tweet_id, ?, n.author_id, n.author_handle, n.is_brand, n.created_at, s.text, n.lang, n.in_reply_to_tweet_id,
       s.in_reply_to_user_id, n.api_conversation_id, n.author_followers, s.retweet_count, s.reply_count,
       s.like_count, s.quote_count, n.run_id, s.record_no
FROM new_tweets n JOIN stg_tweets s ON s.rowid = n.stg_row
"""


@dataclass
class LakeReport:
    """What one ``lake ingest`` did, for the CLI and the tests."""

    lake: Path
    engine: str
    files: list[FileReport]
    rebuilt: Rebuilt = field(default_factory=Rebuilt)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    def lines(self) -> list[str]:
        r = self.rebuilt
        return [f.line() for f in self.files] + [
            f"lake {self.lake}: {r.tweets:,} tweets, {r.threads_total:,} threads ({r.answered_total:,} answered); "
            f"{self.loaded:,} new records, {r.conversations:,} conversations rebuilt on {self.engine} "
            f"({r.passes} pointer-jumping passes, {r.cycles_broken} reply cycles broken) in {self.seconds:.2f} s"]


@dataclass
class Staged:
    reports: list[FileReport]
    batch_id: int
    loaded: int
    warnings: list[str]


def stage(engine: LakeWork, source: str, files: Sequence[Path], settings: Settings, accounts: Sequence[str],
          inputs: Path) -> Staged:
    """Parse, validate and dedupe the files with the loader's code; write the rebuild's inputs to ``inputs``."""
    declared = tweet_source(source)
    stage_file = declared.stage
    assert stage_file is not None
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        stage_small(engine, con)
        con.execute("CREATE TABLE batch AS SELECT * FROM tweets WHERE false")
        first_run, batch_id = next_ids(con)
        create_staging(con, declared)
        reports = []
        for offset, path in enumerate(files):
            report = FileReport(source=source, file=str(path), run_id=first_run + offset)
            report.records_read = stage_file(con, Path(path), report.run_id)
            reports.append(report)
        con.execute("SET preserve_insertion_order = false")
        _quarantine_invalid(con)
        _register_accounts(con, source, [*settings.brand_accounts, *accounts], first_run)
        copy_rows(con, "SELECT DISTINCT tweet_id FROM stg_tweets WHERE reason IS NULL", inputs / "batch_ids")
        engine.attach("batch_ids", inputs / "batch_ids")
        twins = engine.arrow(lake_sql.LAKE_TWINS)
        con.execute("DROP TABLE tweets")
        con.register("twins", twins)
        con.execute("CREATE TABLE tweets AS SELECT * FROM twins")
        con.unregister("twins")
        _classify(con)
        _select_new(con)
        warnings = _unknown_authors(con)
        con.execute(BATCH_SQL, [source])
        loaded_by_run = {int(r): int(n) for r, n in con.execute(
            "SELECT run_id, count(*) FROM batch GROUP BY run_id").fetchall()}
        _account_for(con, reports, loaded_by_run)
        _write_runs(con, reports, batch_id, files)
        copy_rows(con, "SELECT * FROM batch", inputs / "batch")
        copy_rows(con, "SELECT * FROM new_brand_authors", inputs / "new_brand_authors")
        write_small(con, inputs)
    finally:
        con.close()
    return Staged(reports, batch_id, sum(loaded_by_run.values()), warnings)


def ingest_lake(lake: Path | str, source: str, files: Sequence[Path], settings: Settings, engine: str = "duckdb",
                accounts: Sequence[str] = (), spark: Any = None) -> LakeReport:
    """Load tweet files of one source into the lake at ``lake`` (created when missing), threads rebuilt on
    ``engine``; ``spark``: a SparkSession to use (the tests share one), else the engine makes its own."""
    started = time.perf_counter()
    path = Path(lake).resolve()
    for file in files:
        check_readable(Path(file))  # before a lake is created for nothing
    with locked(path):
        create_if_missing(path)
        work = path.with_name(f".{path.name}.{os.getpid()}.ingesting")
        clean(work)
        opened = open_engine(path, engine, spark)
        where = opened.label()
        keep = False  # the replaced files, after a failed switch
        try:
            try:
                with unchanged_on_failure("lake ingest", path), progress.Phases("lake ingest", 3) as phases:
                    phases.start("parse, validate, dedupe")
                    staged = stage(opened, source, files, settings, accounts, work / "in")
                    phases.start(f"rebuilding conversations on {where}")
                    built = rebuild(opened, opened.lake, work / "in", work / "out", staged.loaded, say=phases.note)
                    phases.start("re-linking CRM cases")
                    cases = _relinked_cases(opened, opened.lake, settings, work, built)
            finally:
                if engine == "duckdb":
                    opened.close()
            try:
                publish(opened.lake, work, built, staged.batch_id, cases)
            except OSError as exc:
                keep = True
                raise ResourceError(f"lake ingest failed while switching the new files in: "
                                    f"{describe_failure(exc) or first_line(exc)}: {path} may be part switched; "
                                    f"the replaced files are in {work / 'replaced'} (docs/scale.md)") from exc
        finally:
            if not keep:
                clean(work)
    return LakeReport(path, where, staged.reports, built, staged.warnings, time.perf_counter() - started)


def _relinked_cases(engine: LakeWork, lake: Lake, settings: Settings, work: Path, built: Rebuilt) -> int | None:
    """The lake's CRM cases linked again to the threads as rebuilt (as ``carepulse ingest`` re-links after
    every tweet load) and written to ``work/out``; their count, or None when nothing needs it."""
    if not built.conversations or not lake.manifest()["tables"]["crm_cases"].get("rows"):
        return None
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        apply_schema(con)
        stage_cases(engine, con)
        relink(engine, con, settings, work / "in", rebuilt=True)
        return write_cases(con, work / "out")
    finally:
        con.close()
