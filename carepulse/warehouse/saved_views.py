"""Writing the dashboard's saved views (table ``saved_views``) through the publishing writer, like a load:
a save waits for a running load, is one transaction, and every reader sees it with the next snapshot.
The dashboard checks a view before it comes here (``dashboard/saved_views.py``); values are parameters."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from carepulse.warehouse.store import Warehouse


def save_view(path: Path, name: str, page: str, query: str) -> None:
    """Store a view; one of the same name is replaced."""
    with Warehouse(path).writer() as con:
        con.execute("INSERT INTO saved_views VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                    "page = excluded.page, query = excluded.query, created_at = excluded.created_at",
                    [name, page, query, datetime.now(UTC)])


def delete_view(path: Path, name: str) -> bool:
    """Remove the view called ``name``; False when there was none."""
    with Warehouse(path).writer() as con:
        found = con.execute("DELETE FROM saved_views WHERE name = ? RETURNING name", [name]).fetchall()
    return bool(found)
