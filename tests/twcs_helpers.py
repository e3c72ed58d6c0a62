"""Writing small TWCS-layout files for tests, so fixtures stay readable next to their expectations."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from carepulse.warehouse import Warehouse

HEADER = ["tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id", "in_response_to_tweet_id"]
BASE = datetime(2017, 10, 31, 0, 0, tzinfo=UTC)


def twitter_time(moment: datetime) -> str:
    return moment.strftime("%a %b %d %H:%M:%S +0000 %Y")


def at(hhmm: str, day: int = 0) -> datetime:
    hours, minutes = hhmm.split(":")
    return BASE + timedelta(days=day, hours=int(hours), minutes=int(minutes))


def row(tweet_id: int, author: str, brand: bool, when: datetime, text: str, parent: int | None = None) -> list[str]:
    return [str(tweet_id), author, "False" if brand else "True", twitter_time(when), text, "",
            "" if parent is None else str(parent)]


def write_twcs(path: Path, rows: Iterable[list[str]], *, delimiter: str = ",", newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator=newline)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def stored_runs(db: Path) -> tuple[int, int, list[str]]:
    """The published threads in storage order: (places where ``account`` or, within one account, ``started_at`` goes
    backwards; how many runs of one account there are; the accounts)."""
    con = Warehouse(db).reader().connection()
    (backwards, runs), = con.execute("""
        WITH t AS (SELECT rowid AS r, coalesce(account, chr(1114111)) AS a, started_at FROM threads),
             s AS (SELECT a, started_at, lag(a) OVER (ORDER BY r) AS pa, lag(started_at) OVER (ORDER BY r) AS ps FROM t)
        SELECT count(*) FILTER (WHERE a < pa OR (a = pa AND started_at < ps)),
               count(*) FILTER (WHERE pa IS NULL OR a <> pa)
        FROM s""").fetchall()
    accounts = [a for (a,) in con.execute("SELECT DISTINCT coalesce(account, '') FROM threads").fetchall()]
    con.close()
    return backwards, runs, accounts
