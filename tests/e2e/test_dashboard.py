"""The dashboard in real headless chromium against a served demo warehouse. Few tests, each a user's errand."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e

IDLE = "document.querySelectorAll('[data-dash-is-loading=\"true\"]').length === 0"
PAGES = {
    "pilot": ("/", ["#kpi-cost", "#pilot-volume .scatterlayer .trace", "#pilot-speed .scatterlayer .trace"]),
    "team": ("/team", ["#team-queue .ag-row", "#team-histogram .bars", "#team-heat-arrivals .hm",
                       "#team-agents .ag-row"]),
    "explore": ("/explore", ["#explore-table .ag-row", "#explore-chart .bars", "#explore-threads .ag-row"]),
    "data": ("/data", ["#data-runs .ag-row", "#data-coverage-chart .bars"]),
}


def settle(page: Any) -> None:
    """Wait until no Dash output is loading any more."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(IDLE)


def open_page(page: Any, url: str, selectors: list[str]) -> float:
    started = time.perf_counter()
    page.goto(url)
    for selector in selectors:
        page.wait_for_selector(selector, state="attached")
    seconds = time.perf_counter() - started
    settle(page)
    return seconds


def figure_y(page: Any, graph_id: str) -> Any:
    return page.evaluate(f"() => document.querySelector('#{graph_id} .js-plotly-plot').data[0].y")


def test_every_page_loads_complete_and_without_console_errors(page: Any, base_url: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    timings = {}
    for name, (path, selectors) in PAGES.items():
        timings[name] = open_page(page, base_url + path, selectors)
        assert page.locator(".alert-warning").count() == 0, f"{name}: a warning is shown"
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert page.problems == [], "\n".join(page.problems)
    print("first content per page (s):", json.dumps({k: round(v, 2) for k, v in timings.items()}))


def test_changing_a_filter_changes_the_figures_and_the_link(page: Any, base_url: str) -> None:
    open_page(page, base_url + "/", PAGES["pilot"][1])
    volume, kpi = figure_y(page, "pilot-volume"), page.inner_text("#kpi-response")
    page.click("#filter-account")
    option = page.get_by_role("option").first
    account = option.inner_text().strip()
    option.click()
    page.wait_for_url(f"**account={account}**")
    page.wait_for_function("(old) => { const y = document.querySelector('#pilot-volume .js-plotly-plot')"
                           "?.data?.[0]?.y; return y && JSON.stringify(y) !== old; }", arg=json.dumps(volume))
    page.wait_for_function("(old) => document.querySelector('#kpi-response')?.innerText !== old", arg=kpi)
    settle(page)
    assert figure_y(page, "pilot-volume") != volume
    assert page.inner_text("#kpi-response") != kpi
    assert account in page.inner_text("#filter-account")
    # the link reproduces the view: the filter travels with the navigation and survives a reload
    page.click("#nav-team")
    page.wait_for_url(f"**/team?account={account}")
    page.wait_for_selector("#team-queue .ag-row")
    settle(page)
    accounts = page.locator("#team-queue .ag-center-cols-container [col-id='account']").all_inner_texts()
    assert accounts and set(accounts) == {account}
    page.reload()
    page.wait_for_selector("#team-queue .ag-row")
    assert account in page.inner_text("#filter-account")
    assert page.problems == [], "\n".join(page.problems)


def table_groups(page: Any) -> list[str]:
    return page.locator("#explore-table .ag-pinned-left-cols-container .ag-row").all_inner_texts()


def pick_account(page: Any, index: int) -> str:
    page.click("#filter-account")
    option = page.get_by_role("option").nth(index)
    account = option.inner_text().strip()
    option.click()
    return account


def test_a_filter_change_on_explore_updates_data_and_address_without_drawing_the_page(page: Any,
                                                                                    base_url: str) -> None:
    open_page(page, base_url + "/explore", PAGES["explore"][1])
    assert len(table_groups(page)) > 1
    # a mark on the drawn page: a redraw of the page (Dash's routing) would replace the node and lose it
    page.evaluate("document.querySelector('#explore-table').closest('.card').dataset.drawn = 'once'")
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data or "") if "_dash-update-component" in r.url else None)
    account = pick_account(page, 0)
    page.wait_for_url(f"**account={account}**")
    page.wait_for_function("(a) => { const rows = [...document.querySelectorAll('#explore-table "
                           ".ag-pinned-left-cols-container .ag-row')].map(r => r.innerText.trim());"
                           " return rows.length === 1 && rows[0] === a; }", arg=account)
    settle(page)
    assert page.evaluate("document.querySelector('#explore-table').closest('.card').dataset.drawn") == "once"
    assert posted and not [p for p in posted if "_pages_content" in p], "the filter change drew the page again"
    assert "metrics=" in page.url and "by=account" in page.url, "the address holds the view, too"
    assert page.get_attribute("#nav-team", "href") == f"/team?account={account}"
    # the address reproduces the view: a reload shows the same filter and data
    page.reload()
    page.wait_for_selector("#explore-table .ag-row")
    settle(page)
    assert account in page.inner_text("#filter-account")
    assert table_groups(page) == [account]
    # drill, change the filter in place, then back: the page shows the filter of the address again
    page.locator("#explore-table .ag-pinned-left-cols-container .ag-row[row-index='0']").click()
    page.wait_for_url("**#group=**")
    settle(page)
    other = pick_account(page, 1)
    page.wait_for_url(f"**account={other}**")
    settle(page)
    page.go_back()
    page.wait_for_url(f"**account={account}**")
    page.wait_for_function("(a) => document.querySelector('#filter-account')?.innerText.includes(a)", arg=account)
    page.wait_for_selector("#explore-table .ag-row")
    settle(page)
    assert table_groups(page) == [account]
    # reset clears the controls, the data and the address, still without drawing the page again
    page.evaluate("document.querySelector('#explore-table').closest('.card').dataset.drawn = 'once'")
    page.click("#filter-reset")
    page.wait_for_function("() => !location.search.includes('account=')")
    page.wait_for_function("() => document.querySelectorAll('#explore-table .ag-pinned-left-cols-container "
                           ".ag-row').length > 1")
    settle(page)
    assert account not in page.inner_text("#filter-account")
    assert page.evaluate("document.querySelector('#explore-table').closest('.card').dataset.drawn") == "once"
    # the reload on Back may abort chromium's own favicon request for the history entry; nothing else may fail
    problems = [p for p in page.problems if not ("/_favicon.ico" in p and "ERR_ABORTED" in p)]
    assert problems == [], "\n".join(problems)


def test_clicking_a_waiting_thread_opens_it(page: Any, base_url: str) -> None:
    open_page(page, base_url + "/team", PAGES["team"][1])
    first_row = page.locator("#team-queue .ag-center-cols-container .ag-row[row-index='0']")
    customer = first_row.locator("[col-id='customer_handle']").inner_text()
    tweet = first_row.locator("[col-id='first_text']").inner_text()
    first_row.locator("[col-id='customer_handle']").click()
    panel = page.locator(".offcanvas.show")
    panel.wait_for()
    panel.locator(".tweet-text").first.wait_for()
    assert f"@{customer}" in panel.inner_text()
    assert "wartend" in panel.inner_text()  # the German demo's word for "waiting"
    assert panel.locator(".tweet-text").first.inner_text().strip() == tweet.strip()
    assert "#thread=" in (page.get_attribute("#team-thread-panel-link", "href") or "")
    assert page.problems == [], "\n".join(page.problems)


def test_drill_down_and_xlsx_export_without_formulas(page: Any, base_url: str, tmp_path: Path) -> None:
    open_page(page, base_url + "/explore", PAGES["explore"][1])
    first_group = page.locator("#explore-table .ag-pinned-left-cols-container .ag-row[row-index='0']")
    account = first_group.inner_text().strip()
    first_group.click()
    page.wait_for_function("(a) => document.querySelector('#explore-drill-title').innerText"
                           ".includes('account = ' + a)", arg=account)
    settle(page)
    with page.expect_download() as info:
        page.click("#explore-export-threads-xlsx")
    download = info.value
    assert download.suggested_filename.startswith(f"carepulse-threads-account-{account}")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    sheet = load_workbook(target).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a formula cell in the export"
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert any(t.startswith("@") for t in texts) and not any(t.startswith("'@") for t in texts)  # text intact
    header = [c.value for c in sheet[1]]
    column = header.index("account") + 1
    assert {sheet.cell(row=r, column=column).value for r in range(2, sheet.max_row + 1)} == {account}
    # and a thread of the list opens beside it, conversation in order
    page.locator("#explore-threads .ag-center-cols-container .ag-row[row-index='0'] [col-id='customer_handle']").click()
    panel = page.locator(".offcanvas.show")
    panel.locator(".tweet-text").first.wait_for()
    assert "thread=" in page.url.split("#", 1)[1]
    assert page.problems == [], "\n".join(page.problems)
