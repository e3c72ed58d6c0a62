"""Global filters live in the URL: parsing, changing them in place, and carrying them from page to page."""

from __future__ import annotations

from datetime import date

from carepulse.dashboard import filters
from carepulse.metrics.context import Filters


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


def test_changing_a_filter_replaces_the_filter_keys_of_the_query_and_keeps_the_page_keys() -> None:
    data = {"account": "a", "team": "Hotline", "metrics": "threads", "by": "agent"}
    new = filters.updated_query(data, "2026-05-01T00:00:00", None, "b", None, "Social Care", None)
    assert new == {"from": "2026-05-01", "account": "b", "team": "Social Care", "metrics": "threads", "by": "agent"}
    assert list(new)[:3] == ["from", "account", "team"], "filter keys first, as the layout's store has them"
    # reset: the controls are cleared, and the query keeps only the page's keys
    assert filters.updated_query(data, None, None, None, None, None, None) == {"metrics": "threads", "by": "agent"}
    assert filters.updated_query(None, None, None, None, None, None, None) == {}


def test_the_address_of_a_changed_query_draws_the_same_store_again() -> None:
    """What the browser writes into the address after a filter change is what a reload reads back."""
    data = {"account": "a", "metrics": "threads,csat_mean", "by": "none"}
    new = filters.updated_query(data, "2026-05-01", "2026-05-31", "Hotline Süd", None, None, None)
    search = filters.address(new)
    assert search == ("?from=2026-05-01&to=2026-05-31&account=Hotline+S%C3%BCd&metrics=threads%2Ccsat_mean"
                      "&by=none")
    again = filters.query_store("x-query", filters.parse_search(search), metrics="threads,csat_mean", by="none")
    assert again.data == new
    assert filters.address({}) == "" and filters.address(None) == ""


def test_nav_links_carry_only_the_global_filters() -> None:
    hrefs = filters.nav_hrefs("?account=a&metrics=threads&from=2026-05-01")
    assert hrefs == ["/?from=2026-05-01&account=a", "/team?from=2026-05-01&account=a",
                     "/explore?from=2026-05-01&account=a", "/data?from=2026-05-01&account=a"]
    assert filters.nav_hrefs(None) == ["/", "/team", "/explore", "/data"]


def test_a_link_is_read_strictly_and_every_ignored_part_is_said() -> None:
    cases = {
        "2026-01-01junk": "ignored from=2026-01-01junk: not a date like 2026-05-31",
        "2026-13-45": "ignored from=2026-13-45: no such day",
        "0001-01-01": "ignored from=0001-01-01: outside 1970 to 2100",
        "9999-12-31": "ignored from=9999-12-31: outside 1970 to 2100",
    }
    for text, problem in cases.items():
        got, problems = filters.filters_from_query({"from": text, "team": "Social Care"})
        assert got == Filters(team="Social Care") and problems == [problem]
    got, problems = filters.filters_from_query({"account": "\ud800", "category": "c" * 501, "team": "a\x00b"})
    assert got == Filters()
    assert problems == ["ignored account=\\ud800: not valid text",
                        "ignored team=a\\x00b: holds control characters",
                        f"ignored category={'c' * 60}…: longer than 500 characters"]


def test_the_export_query_must_be_flat_text_and_every_filter_must_apply() -> None:
    assert filters.query_from_json('{"by": "account", "metrics": ["threads"]}') == {"by": "account",
                                                                                      "metrics": ["threads"]}
    for bad, reason in (("[" * 1000 + "]" * 1000, "not valid JSON"), ('{"a": {"b": 1}}', "object of text values"),
                        ("x" * 20_001, "longer than 20,000"), ('{"to": "9999-12-31"}', "outside 1970 to 2100")):
        try:
            filters.query_from_json(bad)
        except filters.BadQuery as exc:
            assert reason in str(exc)
        else:
            raise AssertionError(f"accepted {bad[:40]!r}")


def test_long_values_are_shortened_in_the_dropdown_but_kept_whole() -> None:
    long = "Kategorie " * 600
    option = filters.option(long)
    assert option["value"] == long and len(option["label"]) == filters.OPTION_LABEL_CHARS
    assert option["search"] == option["label"] and option["label"].endswith("…")
    assert filters.option("Rechnung") == {"label": "Rechnung", "value": "Rechnung", "search": "Rechnung",
                                          "title": "Rechnung"}


def test_the_agent_is_a_filter_the_url_carries_and_a_filter_change_keeps() -> None:
    got, problems = filters.filters_from_query({"agent": "A. Becker", "team": "Social Care"})
    assert got == Filters(team="Social Care", agent="A. Becker") and problems == []
    assert got.dimension_values() == {"team": "Social Care", "agent": "A. Becker"}
    new = filters.updated_query({"agent": "A. Becker", "by": "account"}, "2026-05-01", None, None, None, None, None)
    assert new == {"from": "2026-05-01", "agent": "A. Becker", "by": "account"}
    assert filters.nav_hrefs("?agent=A.+Becker&metrics=threads")[1] == "/team?agent=A.+Becker"
