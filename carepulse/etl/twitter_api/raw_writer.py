"""The raw pages of a pull, as received, in the twarc2 JSONL layout ``carepulse ingest jsonl`` reads."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import tweepy

from carepulse import __version__

Endpoint = Literal["mentions", "tweets", "conversations", "parents"]


class RawWriter:
    """Appends pages to ``<root>/<account>/<endpoint>-<stamp>.jsonl.part``; :meth:`finish` drops ``.part``.

    A ``.jsonl`` file holds complete pages of a fetch that ended cleanly and was handed to the
    loader; a leftover ``.part`` file is a fetch a crash interrupted: never loaded (its tweets are
    fetched again by the rerun, since the cursors did not move).
    """

    def __init__(self, root: Path, stamp: str, redact: Callable[[str], str]) -> None:
        self.root = root
        self.stamp = stamp
        self.redact = redact
        self._open: dict[tuple[str, Endpoint], tuple[Path, Any]] = {}
        self._order: list[Path] = []

    def _path(self, account: str, endpoint: Endpoint) -> Path:
        folder = self.root / account
        folder.mkdir(parents=True, exist_ok=True)
        n = 1
        while True:
            suffix = "" if n == 1 else f"-{n}"
            path = folder / f"{endpoint}-{self.stamp}{suffix}.jsonl"
            if not path.exists() and not path.with_name(path.name + ".part").exists():
                return path
            n += 1

    def write(self, account: str, endpoint: Endpoint, page: dict[str, Any], url: str, retrieved_at: datetime) -> bool:
        """Write one page as one line; pages without tweets, users or errors are not kept."""
        if not page.get("data") and not page.get("includes") and not page.get("errors"):
            return False
        key = (account, endpoint)
        if key not in self._open:
            path = self._path(account, endpoint)
            part = path.with_name(path.name + ".part")
            self._open[key] = (path, part.open("w", encoding="utf-8"))
            self._order.append(path)
        _, fh = self._open[key]
        record = dict(page)
        record["__twarc"] = {
            "url": self.redact(url),
            "version": __version__,
            "client": f"carepulse {__version__} (tweepy {tweepy.__version__})",
            "retrieved_at": retrieved_at.isoformat(timespec="seconds"),
        }
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
        return True

    def finish(self) -> list[Path]:
        """Close every file and give it its final name; the files in the order they were started."""
        for path, fh in self._open.values():
            fh.close()
            os.replace(path.with_name(path.name + ".part"), path)
        self._open.clear()
        return list(self._order)

    def abandon(self) -> None:
        """Close the files after a crash, keeping them as ``.part`` (never loaded)."""
        for _, fh in self._open.values():
            fh.close()
        self._open.clear()
