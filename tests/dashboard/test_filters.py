"""Global filters live in the URL: parsing, writing, and carrying them from page to page."""

from __future__ import annotations

from datetime import date

from dashboard import filters
from metrics.context import Filters


def test_search_round_trip_drops_blanks() -> None:
    assert filters.parse_search("?from=2026-05-01&account=&team=Hotline%20S%C3%BCd") == {
        "from": "2026-05-01", "team": "Hotline Süd"}
    assert filters.to_search({"from": "2026-05-01", "account": None, "team": "Hotline Süd"}) == \
        "?from=2026-05-01&team=Hotline+S%C3%BCd"
    assert filters.to_search({}) == ""


def test_filters_from_query() -> None:
    got, problems = filters.filters_from_query({"from": "2026-05-01", "to": "2026-05-31", "account": "@nordfunk_hilft",
                                                "channel": "twitter", "metrics": "threads"})
    assert got == Filters(date(2026, 5, 1), date(2026, 5, 31), account="nordfunk_hilft", channel="twitter")
    assert problems == []


def test_unusable_parts_of_a_link_are_ignored_and_said() -> None:
    got, problems = filters.filters_from_query({"from": "yesterday", "team": "Social Care"})
    assert got == Filters(team="Social Care")
    assert problems == ["ignored from=yesterday: not a date like 2026-05-31"]
    got, problems = filters.filters_from_query({"from": "2026-06-01", "to": "2026-05-01"})
    assert got == Filters() and "before" in problems[0]


def test_changing_a_filter_keeps_page_keys_and_drops_the_open_thread() -> None:
    search = "?metrics=threads&by=agent&account=a&thread=42"
    new = filters.updated_search(search, "2026-05-01T00:00:00", None, "b", None, "Social Care", None, reset=False)
    assert filters.parse_search(new) == {"metrics": "threads", "by": "agent", "from": "2026-05-01", "account": "b",
                                         "team": "Social Care"}
    assert filters.parse_search(filters.updated_search(search, None, None, "b", None, None, None, reset=True)) == {
        "metrics": "threads", "by": "agent"}


def test_nav_links_carry_only_the_global_filters() -> None:
    hrefs = filters.nav_hrefs("?account=a&metrics=threads&from=2026-05-01")
    assert hrefs == ["/?from=2026-05-01&account=a", "/team?from=2026-05-01&account=a",
                     "/explore?from=2026-05-01&account=a", "/data?from=2026-05-01&account=a"]
    assert filters.nav_hrefs(None) == ["/", "/team", "/explore", "/data"]
