"""Saved views: checked before they are stored, stored through the publishing writer, listed by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from carepulse.core.config import Settings
from carepulse.dashboard import saved_views, state
from carepulse.dashboard.filters import BadQuery
from carepulse.warehouse import Warehouse


def test_checked_normalises_and_refuses() -> None:
    view = saved_views.checked("  Oct, Telekom  ", "/team", "?from=2026-10-01&to=2026-10-31&account=&x=1&x=2")
    assert view == saved_views.SavedView("Oct, Telekom", "/team", "?from=2026-10-01&to=2026-10-31&x=2")
    assert view.href == "/team?from=2026-10-01&to=2026-10-31&x=2"
    with pytest.raises(BadQuery, match="name"):
        saved_views.checked("   ", "/", "")
    with pytest.raises(BadQuery, match="printable"):
        saved_views.checked("a\nb", "/", "")
    with pytest.raises(BadQuery, match="not a page"):
        saved_views.checked("x", "javascript:alert(1)", "")
    with pytest.raises(BadQuery, match="not a page"):
        saved_views.checked("x", "//evil.example/", "")


def test_save_list_replace_delete_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    settings = Settings(db=path)
    reader = Warehouse(path).reader() if path.exists() else None
    assert reader is None
    with Warehouse(path).writer():
        pass  # an empty warehouse, as after a first load
    reader = Warehouse(path).reader()
    assert saved_views.list_views(db=reader, settings=settings) == ()
    hostile = saved_views.checked("<b>=1+1</b> 'o''brien'", "/explore", "?metrics=threads&by=agent")
    saved_views.save_view(path, hostile)
    saved_views.save_view(path, saved_views.checked("another", "/", "?cmp=year"))
    names = [v.name for v in saved_views.list_views(db=reader, settings=settings)]
    assert names == ["<b>=1+1</b> 'o''brien'", "another"]  # stored byte for byte, ordered by name
    saved_views.save_view(path, saved_views.checked("another", "/team", ""))  # the same name replaces
    assert saved_views.list_views(db=reader, settings=settings)[1].href == "/team"
    assert saved_views.delete_view(path, "another") is True
    assert saved_views.delete_view(path, "another") is False
    assert [v.name for v in saved_views.list_views(db=reader, settings=settings)] == [hostile.name]


def test_menu_renders_names_as_text(demo_state: state.DashboardState) -> None:
    from carepulse.dashboard import views_menu

    items = views_menu.menu_items((saved_views.SavedView("<script>x</script>", "/", "?from=2026-10-01"),))
    assert items[0].children == "<script>x</script>" and items[0].href == "/?from=2026-10-01"
    assert views_menu.menu_items(())[0].disabled is True
