"""A version-1 warehouse (no stored first reply) is migrated by the next writer, with the loader's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from carepulse.core.config import Settings
from carepulse.etl.loader import ingest_tweets
from carepulse.warehouse import Warehouse
from tests.twcs_helpers import row, write_twcs

T0 = datetime(2017, 10, 31, 9, 0, tzinfo=UTC)


def test_a_version_1_file_gets_the_first_reply_columns_the_loader_would_write(tmp_path: Path) -> None:
    at = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
    rows = [row(1, "c1", False, at(0), "@Brand help"), row(3, "Brand", True, at(5), "@c1 a", 1),
            row(2, "Other", True, at(5), "@c1 b", 1), row(4, "c1", False, at(9), "@Brand thx", 2),
            row(5, "Brand", True, at(20), "@c1 ok", 4), row(6, "Brand", True, at(21), "@Brand note", 5)]
    csv = write_twcs(tmp_path / "t.csv", rows)
    db = tmp_path / "w.duckdb"
    ingest_tweets(Warehouse(db), "twcs", [csv], Settings(db=db))
    query = "SELECT tweet_id, first_reply_at, first_reply_id, first_reply_by FROM tweets ORDER BY tweet_id"
    con = duckdb.connect(str(db))
    expected = con.execute(query).fetchall()
    con.execute("ALTER TABLE tweets DROP COLUMN first_reply_by; ALTER TABLE tweets DROP COLUMN first_reply_id")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    with Warehouse(db).writer():
        pass
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute(query).fetchall() == expected
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [("2",)]
    # tweet 1: replies 2 and 3 in the same minute: the lower id, 2 (Other), is the first reply
    assert expected[0][2:] == (2, "Other") and expected[3][2:] == (5, "Brand")
    assert expected[4][2:] == (None, None)  # 6 is a brand tweet replying to a brand tweet
