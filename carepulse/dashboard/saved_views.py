"""Saved views: a name for a page and its query (the filters and page keys), kept in the warehouse.

Everyone reading the warehouse sees the same list in the navbar. A view is saved through the warehouse's
publishing writer, like a load: it waits for a running load, never shows half a write, and publishes a
new snapshot (so the dashboard's cache starts afresh: saving is rare, and a view must appear for every
reader at once). The name is text, shown as text; the page must be one of the dashboard's pages and the
query is normalised through the same parser the pages use, so a stored link can only open a page here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carepulse.core.config import Settings
from carepulse.dashboard.filters import MAX_QUERY_CHARS, PAGES, BadQuery, parse_search, to_search
from carepulse.metrics import data_views
from carepulse.metrics.context import Database
from carepulse.warehouse import saved_views as store

MAX_NAME_CHARS = 80
MAX_VIEWS = 200


@dataclass(frozen=True)
class SavedView:
    name: str
    page: str
    query: str

    @property
    def href(self) -> str:
        return self.page + self.query


def checked(name: Any, page: Any, search: Any) -> SavedView:
    """The view as it will be stored, or :class:`BadQuery` saying what is wrong with it."""
    text = str(name or "").strip()
    if not text:
        raise BadQuery("a saved view needs a name")
    if len(text) > MAX_NAME_CHARS or not text.isprintable():
        raise BadQuery(f"a view's name is at most {MAX_NAME_CHARS} printable characters")
    paths = {path for _, _, path in PAGES}
    if page not in paths:
        raise BadQuery(f"not a page of this dashboard: {str(page)[:60]!r}")
    query = to_search(parse_search(str(search or "")))
    if len(query) > MAX_QUERY_CHARS:
        raise BadQuery("the view's address is too long to save")
    return SavedView(text, str(page), query)


def list_views(*, db: Database, settings: Settings) -> tuple[SavedView, ...]:
    """The saved views, by name."""
    return tuple(SavedView(*row) for row in data_views.saved_views(db=db, settings=settings, limit=MAX_VIEWS))


def save_view(path: Path, view: SavedView) -> None:
    """Store ``view`` (a view of the same name is replaced)."""
    store.save_view(path, view.name, view.page, view.query)


def delete_view(path: Path, name: str) -> bool:
    """Remove the view called ``name``; False when there was none."""
    return store.delete_view(path, name)
