"""The Team queue by keyboard, in real headless chromium: one tab stop, arrows inside, Enter opens the thread."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_dashboard import PAGES, open_page

pytestmark = pytest.mark.e2e

FOCUSED_ROW = """() => {
    const cell = document.activeElement && document.activeElement.closest('#team-queue .ag-row');
    return cell ? cell.getAttribute('row-index') : null;
}"""
INSIDE_QUEUE = "() => !!(document.activeElement && document.activeElement.closest('#team-queue'))"


def enter_the_queue(page: Any) -> None:
    """From just above the grid (the queue's note), Tab once, then ArrowDown until a row has focus."""
    page.evaluate("() => { const n = document.getElementById('team-queue-note'); n.tabIndex = -1; n.focus(); }")
    page.keyboard.press("Tab")
    page.wait_for_function(INSIDE_QUEUE)
    for _ in range(3):  # the header row(s) first, as AG Grid enters a grid
        if page.evaluate(FOCUSED_ROW) is not None:
            break
        page.keyboard.press("ArrowDown")
    page.wait_for_function(f"({FOCUSED_ROW})() === '0'")


def test_a_focused_queue_row_opens_with_enter(page: Any, base_url: str) -> None:
    open_page(page, base_url + "/team", PAGES["team"][1])
    page.wait_for_selector("#team-queue .ag-center-cols-container .ag-row[row-index='1']")
    enter_the_queue(page)
    # one tab stop: Tab leaves the grid at once, Shift+Tab comes back into it
    page.keyboard.press("Tab")
    assert not page.evaluate(INSIDE_QUEUE), "Tab walked into another cell of the grid"
    page.keyboard.press("Shift+Tab")
    page.wait_for_function(INSIDE_QUEUE)
    enter_the_queue(page)
    # the arrows move inside the grid
    page.keyboard.press("ArrowDown")
    page.wait_for_function(f"({FOCUSED_ROW})() === '1'")
    row = page.locator("#team-queue .ag-center-cols-container .ag-row[row-index='1']")
    customer = row.locator("[col-id='customer_handle']").inner_text()
    tweet = row.locator("[col-id='first_text']").inner_text()
    page.keyboard.press("Enter")
    panel = page.locator(".offcanvas.show")
    panel.wait_for()
    panel.locator(".tweet-text").first.wait_for()
    assert f"@{customer}" in panel.inner_text()
    assert panel.locator(".tweet-text").first.inner_text().strip() == tweet.strip()
    assert "#thread=" in (page.get_attribute("#team-thread-panel-link", "href") or "")
    assert page.problems == [], "\n".join(page.problems)


def test_space_opens_a_row_too_and_the_queue_says_what_waiting_is_measured_to(page: Any, base_url: str) -> None:
    open_page(page, base_url + "/team", PAGES["team"][1])
    assert "Wartezeit gemessen bis" in page.inner_text("#team-queue-as-of")  # the German demo
    assert page.locator("#team-breach-agents .hm").count() == 1 and page.locator("#team-breach-weekdays .hm").count()
    enter_the_queue(page)
    page.keyboard.press(" ")
    page.locator(".offcanvas.show").wait_for()
    assert page.problems == [], "\n".join(page.problems)
