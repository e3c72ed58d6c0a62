"""Erasing one customer (GDPR Art. 17): their rows, what was derived from them, and the raw pages naming them.

**What goes.** The customer is found by handle (case-insensitive, ``@`` ignored) together with every author
id that handle had (``tweets`` and the Twitter ``users`` table: a renamed account keeps its id). Removed, in
one writer transaction:

* their tweets, and the brand tweets that reply to them (parent is one of their tweets, or the API's
  ``in_reply_to_user_id`` is theirs). *Decision:* a brand reply to the customer goes with the customer. It
  addresses them ("@anna, we have refunded order 4711 to your card ending 12"): replacing the handle would
  leave everything else it says about them, and with their thread gone it would count in no thread. The
  cost: the brand's reply volume loses those tweets. Brand tweets that only *mention* the customer (a reply
  to someone else naming them) stay;
* their threads, their CRM cases (``twitter_handle``), their ``users`` row(s), and quarantined records
  whose raw text names the handle or one of their ids (as a word: ``@bob`` is not ``@bobby``).

**What is rewritten.** In every remaining tweet text the handle becomes ``@[erased]`` (a bare ``bob`` becomes
``[erased]``); a remaining tweet's ``in_reply_to_user_id`` and ``in_reply_to_tweet_id`` that point at them
are cleared. The conversations they took part in are rebuilt with the loader's own graph passes and thread
aggregation (:mod:`carepulse.etl.transform.threads`), so the warehouse is what loading the same files
without those tweets would give: another customer's thread keeps its tweets, replies, first response and
status; its conversation counts (``conversation_tweets``, ``last_tweet_at``) lose the erased tweets, and
where the conversation's root was an erased tweet, the remaining tweets form new conversations (new
``thread_id``). CRM cases are linked again, since a case may have pointed at an erased thread.

**The bytes.** DuckDB leaves deleted rows in free blocks of the file until they are reused, and a writer
copies the file block by block, so a ``DELETE`` alone would keep the customer's text in the published file
(and in every later snapshot). After the deletes the transaction is committed into the private copy, that
copy is written afresh into a new file with ``COPY FROM DATABASE`` (live rows only), and the new file is
what the writer publishes (``Warehouse.writer(rewrite=True)``). The run log (``ingest_runs``) keeps its counts: they
say what each load did.

**The raw pages.** Files under the raw directory (``carepulse pull`` writes ``<raw>/<account>/*.jsonl``)
that name the handle or an id are deleted after the warehouse is published, and listed. A page file holds
other people's tweets too; they stay in the warehouse, but that file cannot be loaded again.

Erasure is not a block list: a later load of a file that still holds the customer's tweets loads them
again. The audit log keeps a keyed hash of the handle (:mod:`carepulse.warehouse.audit`) to check against.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from carepulse.core.config import Settings
from carepulse.core.errors import ConfigError, DataError
from carepulse.etl.loader import relink_crm
from carepulse.etl.transform import threads as thread_rebuild
from carepulse.warehouse import Warehouse

log = logging.getLogger(__name__)

HANDLE = re.compile(r"[A-Za-z0-9_]{1,50}")  # Twitter: 1-15 word characters; TWCS ids are digits
ERASED = "@[erased]"

# The removed tables in the order they are reported; "brand_replies" are rows of ``tweets`` too.
REMOVED = ("tweets", "brand_replies", "threads", "crm_cases", "users", "quarantine")


@dataclass
class ErasureReport:
    """What one erasure removed and rewrote (for the CLI, the audit log and the tests): counts, never names."""

    removed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REMOVED, 0))
    author_ids: int = 0
    texts_rewritten: int = 0
    replies_unlinked: int = 0
    conversations_rebuilt: int = 0
    threads_rebuilt: int = 0
    crm_links_changed: int = 0
    raw_files: list[Path] = field(default_factory=list)
    raw_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def nothing(self) -> bool:
        """Nothing named the customer: no row, no text, no raw file."""
        return not any(self.removed.values()) and not self.texts_rewritten and not self.replies_unlinked \
            and not self.raw_files

    def counts(self) -> dict[str, int]:
        """Every count in one flat mapping (the audit log's detail)."""
        return {**self.removed, "texts_rewritten": self.texts_rewritten, "replies_unlinked": self.replies_unlinked,
                "conversations_rebuilt": self.conversations_rebuilt, "threads_rebuilt": self.threads_rebuilt,
                "crm_links_changed": self.crm_links_changed, "raw_files": len(self.raw_files)}


class _NothingToErase(Exception):
    """Raised inside the writer to leave the published file as it is (nothing named the customer)."""


def customer_key(handle: str) -> str:
    """The handle as matched: without ``@``, lower-case; anything but a handle is refused (it goes into
    regular expressions and must not match more than one name)."""
    key = handle.strip().removeprefix("@")
    if not HANDLE.fullmatch(key):
        raise ConfigError(f"--customer: {handle!r} is not a Twitter handle (letters, digits and _, at most 50)")
    return key.lower()


def _word_pattern(words: list[str]) -> str:
    """A regular expression matching any of ``words`` as a whole word, case-insensitively (RE2 and Python)."""
    alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))
    return f"(?i)(?:^|[^A-Za-z0-9_])(?:{alternatives})(?:[^A-Za-z0-9_]|$)"


def _select(con: duckdb.DuckDBPyConnection, key: str) -> list[str]:
    """Temp tables ``erase_authors``, ``erase_tweets`` (theirs and the brand replies to them, with a flag),
    ``touched_convs``; returns the words that identify the customer in raw text (the handle, their ids).

    Refuses a brand account: erasing one would remove a brand's whole service history, which is not what
    Art. 17 asks for and not what someone typing a customer's handle means.
    """
    brand = con.execute(
        """SELECT handle FROM accounts WHERE handle_key = ?
           UNION ALL SELECT any_value(author_handle) FROM tweets WHERE lower(author_handle) = ? AND is_brand
           HAVING count(*) > 0 LIMIT 1""", [key, key]).fetchall()
    if brand:
        raise ConfigError(f"@{brand[0][0]} is a brand account, not a customer: nothing was erased")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE erase_authors AS
           SELECT DISTINCT author_id FROM (
               SELECT author_id FROM tweets WHERE lower(author_handle) = ? AND NOT is_brand
               UNION ALL SELECT author_id FROM users WHERE lower(handle) = ?)""", [key, key])
    con.execute(
        """CREATE OR REPLACE TEMP TABLE erase_tweets AS
           WITH theirs AS (
               SELECT tweet_id FROM tweets
               WHERE NOT is_brand AND (lower(author_handle) = ? OR author_id IN (SELECT author_id FROM erase_authors))
           )
           SELECT tweet_id, false AS brand_reply, conversation_id FROM tweets WHERE tweet_id IN (SELECT * FROM theirs)
           UNION
           SELECT tweet_id, true, conversation_id FROM tweets
           WHERE is_brand AND (in_reply_to_tweet_id IN (SELECT * FROM theirs)
                               OR in_reply_to_user_id IN (SELECT author_id FROM erase_authors))""", [key])
    con.execute(
        """CREATE OR REPLACE TEMP TABLE touched_convs AS
           SELECT DISTINCT conversation_id FROM erase_tweets WHERE conversation_id IS NOT NULL""")
    ids = [str(r[0]) for r in con.execute("SELECT author_id FROM erase_authors").fetchall()]
    return [key, *(i for i in ids if HANDLE.fullmatch(i))]


def _counts(con: duckdb.DuckDBPyConnection, key: str, words: list[str]) -> ErasureReport:
    """What the selection would remove and rewrite, without changing anything (works on a reader too)."""
    (row,) = con.execute(
        """SELECT (SELECT count(*) FILTER (WHERE NOT brand_reply) FROM erase_tweets),
                  (SELECT count(*) FILTER (WHERE brand_reply) FROM erase_tweets),
                  (SELECT count(*) FROM threads WHERE lower(customer_handle) = ?
                                                   OR customer_id IN (SELECT author_id FROM erase_authors)),
                  (SELECT count(*) FROM crm_cases WHERE nullif(lower(ltrim(trim(twitter_handle), '@')), '') = ?),
                  (SELECT count(*) FROM users WHERE lower(handle) = ?
                                               OR author_id IN (SELECT author_id FROM erase_authors)),
                  (SELECT count(*) FROM quarantine WHERE regexp_matches(raw, ?)),
                  (SELECT count(*) FROM tweets WHERE regexp_matches(text, ?)
                                                 AND tweet_id NOT IN (SELECT tweet_id FROM erase_tweets)),
                  (SELECT count(*) FROM erase_authors)""",
        [key, key, key, _word_pattern(words), _word_pattern([key])]).fetchall()
    report = ErasureReport(removed=dict(zip(REMOVED, (int(v) for v in row[:6]), strict=True)))
    report.texts_rewritten, report.author_ids = int(row[6]), int(row[7])
    return report


def preview(warehouse: Warehouse, handle: str, raw_dir: Path | None) -> ErasureReport:
    """What :func:`erase_customer` would do, read from the published snapshot (for the confirmation)."""
    key = customer_key(handle)
    con = warehouse.reader().connection()
    try:
        words = _select(con, key)
        report = _counts(con, key, words)
    finally:
        con.close()
    report.raw_files = raw_files_naming(raw_dir, words) if raw_dir else []
    return report


def erase_customer(warehouse: Warehouse, handle: str, settings: Settings, raw_dir: Path | None) -> ErasureReport:
    """Erase the customer ``handle`` from the warehouse (one transaction, published afresh) and the raw pages.

    Nothing named them: nothing is published, and the report says so (:attr:`ErasureReport.nothing`).
    """
    key = customer_key(handle)
    if not warehouse.exists():
        raise DataError(f"no warehouse at {warehouse.path}: nothing to erase")
    started = time.perf_counter()
    words = [key]
    report = ErasureReport()
    try:
        # rewrite: the published file is a fresh logical copy, without the deleted rows' bytes (see store.py)
        with warehouse.writer(on_wait=f"waiting for a load of {warehouse.path} to finish", rewrite=True) as con:
            words = _select(con, key)
            report = _counts(con, key, words)
            if not any(report.removed.values()) and not report.texts_rewritten:
                raise _NothingToErase
            _delete(con, key, words, report, settings)
    except _NothingToErase:
        pass
    if raw_dir is not None:
        for path in raw_files_naming(raw_dir, words):
            try:
                path.unlink()
                report.raw_files.append(path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                report.raw_failures.append(f"{path}: {exc.strerror or exc}")
    report.seconds = time.perf_counter() - started
    return report


def _delete(con: duckdb.DuckDBPyConnection, key: str, words: list[str], report: ErasureReport,
            settings: Settings) -> None:
    """The deletes, the rewrites and the rebuild, inside the writer's transaction."""
    links_before = con.execute("SELECT case_id, linked_thread_id FROM crm_cases").fetchall()
    con.execute("DELETE FROM threads WHERE lower(customer_handle) = ? OR customer_id IN "
                "(SELECT author_id FROM erase_authors)", [key])
    con.execute("DELETE FROM crm_cases WHERE nullif(lower(ltrim(trim(twitter_handle), '@')), '') = ?", [key])
    con.execute("DELETE FROM users WHERE lower(handle) = ? OR author_id IN (SELECT author_id FROM erase_authors)",
                [key])
    con.execute("DELETE FROM quarantine WHERE regexp_matches(raw, ?)", [_word_pattern(words)])
    con.execute("DELETE FROM tweets WHERE tweet_id IN (SELECT tweet_id FROM erase_tweets)")
    # A remaining tweet that names them: the mention, then a bare word (RE2's \b is the ASCII word boundary).
    con.execute(
        """UPDATE tweets SET text = regexp_replace(regexp_replace(text, ?, ?, 'g'), ?, '[erased]', 'g')
           WHERE regexp_matches(text, ?)""",
        [f"(?i)@{re.escape(key)}\\b", ERASED, f"(?i)\\b{re.escape(key)}\\b", _word_pattern([key])])
    (unlinked,), = con.execute(
        """SELECT count(*) FROM tweets WHERE in_reply_to_user_id IN (SELECT author_id FROM erase_authors)
                                          OR in_reply_to_tweet_id IN (SELECT tweet_id FROM erase_tweets)""").fetchall()
    report.replies_unlinked = int(unlinked)
    con.execute(
        """UPDATE tweets SET
               in_reply_to_user_id = CASE WHEN in_reply_to_user_id IN (SELECT author_id FROM erase_authors)
                                          THEN NULL ELSE in_reply_to_user_id END,
               in_reply_to_tweet_id = CASE WHEN in_reply_to_tweet_id IN (SELECT tweet_id FROM erase_tweets)
                                           THEN NULL ELSE in_reply_to_tweet_id END
           WHERE in_reply_to_user_id IN (SELECT author_id FROM erase_authors)
              OR in_reply_to_tweet_id IN (SELECT tweet_id FROM erase_tweets)""")
    report.threads_rebuilt, report.conversations_rebuilt = thread_rebuild.rebuild_touched(con)
    if links_before:
        relink_crm(con, settings)
        after = dict(con.execute("SELECT case_id, linked_thread_id FROM crm_cases").fetchall())
        report.crm_links_changed = sum(1 for case, thread in links_before if case in after and after[case] != thread)
    con.execute("DROP TABLE erase_authors; DROP TABLE erase_tweets; DROP TABLE touched_convs")


def raw_files_naming(raw_dir: Path, words: list[str]) -> list[Path]:
    """Files under ``raw_dir`` with any of ``words`` as a whole word (case-insensitive), sorted; read line by
    line (a pull page is one line, the files may be large). Symbolic links are not followed."""
    if not raw_dir.is_dir():
        return []
    pattern = re.compile(_word_pattern(words).removeprefix("(?i)").encode("ascii"), re.IGNORECASE)
    found: list[Path] = []
    for path in sorted(raw_dir.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        try:
            with path.open("rb") as fh:
                if any(pattern.search(line) for line in fh):
                    found.append(path)
        except OSError as exc:
            log.warning("cannot read the raw file %s: %s", path, exc)
    return found
