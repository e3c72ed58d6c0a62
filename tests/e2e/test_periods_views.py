"""Browser errands of the period tools: a preset, the cards' deltas, a saved view's round trip, the agent filter."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from carepulse.core.config import Settings
from carepulse.metrics import engine
from carepulse.warehouse import Warehouse
from tests.e2e.test_dashboard import PAGES, open_page, settle

pytestmark = pytest.mark.e2e
DELTA = re.compile(r"^[▲▼=] [+\-±]\S+.* ggü\. \d\d\.\d\d\.\d{4} – \d\d\.\d\d\.\d{4} · ")


def test_a_preset_sets_the_range_and_the_cards_compare_with_the_previous_period(page: Any, base_url: str) -> None:
    open_page(page, base_url + "/", PAGES["pilot"][1])
    button = page.locator("#filter-preset-last-4-weeks")
    start, end = button.get_attribute("title").split(" – ")
    button.click()
    page.wait_for_url(f"**from={start}&to={end}**")
    page.wait_for_function("() => document.querySelector('#kpi-response .cp-delta')?.innerText.includes('ggü.')")
    settle(page)
    lines = page.locator(".cp-delta").all_inner_texts()
    assert len(lines) >= 5 and all(DELTA.match(line) for line in lines), lines
    # the same period a year before: the demo has no data there, and the cards say so
    page.click("#pilot-compare")
    page.get_by_role("option", name="dem Vorjahreszeitraum").click()
    page.wait_for_url("**cmp=year**")
    page.wait_for_function("() => document.querySelector('#kpi-response .cp-delta')?.innerText"
                           ".startsWith('kein Vergleich')")
    assert f"from={start}&to={end}" in page.url  # the range stayed
    assert page.problems == [], "\n".join(page.problems)


def test_a_saved_view_round_trip(page: Any, base_url: str) -> None:
    open_page(page, base_url + "/team?from=2026-06-01&to=2026-06-30", ["#team-histogram .bars"])
    page.click("#views-save-open")
    page.fill("#views-save-name", "Juni <Team>")
    page.click("#views-save-confirm")
    page.wait_for_selector("#views-save-dialog", state="detached")
    settle(page)  # the callbacks the save set off (the menu's new entry) end before the test leaves the page
    open_page(page, base_url + "/", PAGES["pilot"][1])
    page.click("#views-menu")
    page.locator(".cp-saved-view", has_text="Juni <Team>").click()
    page.wait_for_url("**/team?from=2026-06-01&to=2026-06-30")
    page.wait_for_selector("#team-histogram .bars", state="attached")  # (June's queue is empty by now)
    settle(page)
    shown = page.eval_on_selector_all(".cp-dates input", "els => els.map(e => e.value)")
    assert shown == ["01.06.2026", "30.06.2026"], shown
    assert page.problems == [], "\n".join(page.problems)


def test_the_agent_filter_from_the_address(page: Any, base_url: str, e2e_db: Path) -> None:
    reader = Warehouse(e2e_db).reader()
    by_agent = engine.compute(["threads"], "agent", db=reader, settings=Settings(db=e2e_db))
    agent = max((g for g in by_agent.groups if not g.startswith("(")),
                key=lambda g: by_agent.groups[g]["threads"].value or 0)
    open_page(page, base_url + "/", PAGES["pilot"][1])
    everyone = page.inner_text("#kpi-response")
    open_page(page, base_url + "/?agent=" + quote(agent), PAGES["pilot"][1])
    bar = page.inner_text(".cp-filter-bar")
    assert f"Agent: {agent}" in bar and "alle Agenten" in bar  # the German demo
    assert page.inner_text("#kpi-response") != everyone
    page.click("text=alle Agenten")
    page.wait_for_url(re.compile(r".*/(\?(?!.*agent=).*)?$"))
    assert page.problems == [], "\n".join(page.problems)
