"""Layouts and callbacks called as plain functions against real warehouses (no browser, no server)."""

from __future__ import annotations

import base64
import io
import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from typing import Any

import pandas as pd
import pytest
from dash import html
from dash.development.base_component import Component
from dash.testing import ignore_register_page
from openpyxl import load_workbook

from carepulse.dashboard import components, filters, i18n, ids, state, thread
from carepulse.metrics import views

with ignore_register_page():
    from carepulse.dashboard.pages import data as data_page
    from carepulse.dashboard.pages import explore, pilot, team


def walk(node: Any) -> Iterator[Any]:
    """Every component and string in a layout tree."""
    yield node
    if isinstance(node, Component):
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if child is not None:
                yield from walk(child)
    elif isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)


def text_of(node: Any) -> str:
    return " ".join(str(n) for n in walk(node) if isinstance(n, str | int | float))


def find(node: Any, component_id: str) -> Any:
    for n in walk(node):
        if isinstance(n, Component) and getattr(n, "id", None) == component_id:
            return n
    raise AssertionError(f"no component {component_id}")


def one_account() -> dict[str, str]:
    """A filter on the first brand account of the demo (whatever the simulation names it)."""
    from carepulse.metrics import data_views

    return {"account": state.load(data_views.filter_options).accounts[0]}


# ---- Team ------------------------------------------------------------------------------------------

def test_queue_is_the_waiting_threads_longest_first(demo_state: state.DashboardState) -> None:
    rows, note = team.show_queue({})
    assert rows and all(r["waiting_seconds"] is not None for r in rows)
    waits = [r["waiting_seconds"] for r in rows]
    assert waits == sorted(waits, reverse=True)
    assert {"thread_id", "account", "customer_handle", "first_text"} <= set(rows[0])
    assert "der letzten 14 Tage warten auf eine Erstantwort" in note  # the German demo
    account = one_account()
    filtered, filtered_note = team.show_queue(account)
    assert filtered and {r["account"] for r in filtered} == {account["account"]}
    assert filtered_note != note


def test_queue_leaves_out_abandoned_threads_and_says_so(demo_state: state.DashboardState) -> None:
    """The demo's threads left unanswered in May would top a queue ordered by waiting time."""
    rows, note = team.show_queue({})
    max_age_s = demo_state.settings.queue_max_age_days * 86400
    assert max(r["waiting_seconds"] for r in rows) <= max_age_s
    every = views.threads(db=demo_state.reader, settings=demo_state.settings, status="unanswered", limit=None)
    older = int((every["waiting_seconds"] > max_age_s).sum())
    assert older > 0 and len(rows) == len(every) - older  # the demo's queue is shorter than QUEUE_LIMIT
    assert f"{older} ältere unbeantwortete Threads" in note  # the German demo
    assert "zählen in der Antwortquote" in note and "die Analyse listet sie auf" in note


def test_queue_note() -> None:
    # in German where the locale given is "de"
    assert team.queue_note(200, 367, 366, 0, 14, "de", 60).endswith("Angezeigt werden die 200 längsten.")
    assert team.queue_note(0, 0, 0, 0, 14, "en", 60).startswith("Nobody is waiting")
    note = team.queue_note(3, 3, 1, 1_234, 14, "de", 60)
    assert note.startswith("3 Threads der letzten 14 Tage warten auf eine Erstantwort, davon 1 länger")
    assert "1.234 ältere unbeantwortete Threads (begonnen mehr als 14 Tage vor dem Datenstand) fehlen hier" in note
    assert "die Analyse listet sie auf (Threads nach Status filtern)" in note
    assert team.queue_note(3, 3, 1, 1_234, 14, "en", 60).startswith(
        "3 threads from the last 14 days are waiting for a first response, 1 of them longer")
    only_old = team.queue_note(0, 0, 0, 1, 7.5, "en", 60)
    assert only_old.startswith("No thread from the last 7.5 days is waiting")
    assert "1 older unanswered thread (started" in only_old and "it counts in the response rate" in only_old


def test_team_figures_change_with_the_filter(demo_state: state.DashboardState) -> None:
    hist, km = team.show_distributions({})
    hist_b, _ = team.show_distributions(one_account())
    assert isinstance(hist, dict) and hist["data"] and km["data"]
    assert hist["data"][0]["y"] != hist_b["data"][0]["y"]
    sla = team.show_sla({})
    assert [t["name"] for t in sla["data"]] == [i18n._(n) for n in ("breached", "met", "still within the SLA")]
    arrivals, _ = team.show_heatmaps({})
    assert sum(sum(r) for r in arrivals["data"][0]["z"]) == demo_state_threads(demo_state)
    agents, note = team.show_agents({})
    assert note.startswith("Nicht in der Tabelle: ") or note == ""  # the German demo
    assert agents and {"agent", "n", "sla_met_share", "first_response_median_s", "ci_low", "ci_high"} <= set(agents[0])
    assert all(a["agent"] != "(none)" for a in agents)
    assert team.agents_note({"unattributed_threads": 12, "unattributed_answered": 3}, "en").startswith(
        "Not in the table: 12 threads without an agent (3 of them answered")
    assert team.agents_note({"unattributed_threads": 0}, "en") == ""


def demo_state_threads(s: state.DashboardState) -> int:
    con = s.reader.connection()
    try:
        return int(con.execute("SELECT count(*) FROM threads").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


def test_clicking_a_queue_row_opens_the_thread_with_plain_text(demo_state: state.DashboardState) -> None:
    rows, _ = team.show_queue({})
    thread_id = rows[0]["thread_id"]
    account = one_account()
    is_open, body, link = team.open_thread({"rowId": thread_id, "colId": "first_text"}, account)
    assert is_open is True
    assert link.startswith(f"/explore?account={account['account']}#thread=")
    text = text_of(body)
    assert rows[0]["customer_handle"] in text and i18n._("waiting") in text
    tweets = views.thread_tweets(thread_id, db=demo_state.reader, settings=demo_state.settings)
    first = tweets["text"].iloc[0]
    holders = [n for n in walk(body) if isinstance(n, html.Div) and n.children == first]
    assert holders, "the tweet text is a plain string child"
    assert not any(hasattr(n, "dangerously_set_inner_html") for n in walk(body))


def test_a_thread_that_does_not_exist_says_so(demo_state: state.DashboardState) -> None:
    assert i18n._("This thread is not in the warehouse (any more); pick another one") in text_of(
        thread.render("1-nobody"))
    assert i18n._("Click a thread in the list to read its conversation here") in text_of(thread.render(None))


# ---- Explore ---------------------------------------------------------------------------------------

VIEW = {"metrics": "threads,response_rate,resolution_rate", "by": "account", "ci": "1", "chart": "response_rate"}


def test_explore_view_table_chart_notes_and_sql(demo_state: state.DashboardState) -> None:
    rows, options, figure, notes, definitions = explore.show_view(VIEW)
    groups = [r["group"] for r in rows]
    assert one_account()["account"] in groups and "(total)" not in groups
    assert {"response_rate_n", "resolution_rate_ci_low"} <= set(rows[0])
    total = options.to_plotly_json()["operations"][0]["params"]["value"]
    assert total[0]["group"] == i18n._("(total)", "de") == "(gesamt)"
    assert total[0]["threads"] == sum(r["threads"] for r in rows)
    whole, options, _, _, _ = explore.show_view({**VIEW, "by": "none"})
    assert [r["group"] for r in whole] == [i18n._("whole selection", "de")]
    assert figure["data"] and figure["data"][0]["name"] == "Antwortquote"  # the German demo
    assert "SELECT" in text_of(definitions)
    assert "bedeutet kein Wert" in text_of(notes)  # the German demo ("means no value")
    # small groups are shown, and the note says so (the German demo: "read them with their n")
    assert "lesen Sie sie mit ihrem n" in text_of(notes)


def test_explore_query_parsing() -> None:
    assert explore.chosen_metrics("threads,nope,threads") == ("threads",)
    assert explore.chosen_metrics(None) == explore.DEFAULT_METRICS
    assert explore.chosen_by("none") is None and explore.chosen_by("weird") == explore.DEFAULT_BY
    assert explore.parse_hash("#group=a&thread=1-2") == {"group": "a", "thread": "1-2"}
    assert explore.to_hash({"group": "Hotline Süd"}) == "#group=Hotline+S%C3%BCd"
    assert explore.drill_group(VIEW, "#group=(total)") is None
    assert explore.drill_group(VIEW, "#group=a") == ("account", "a")
    assert explore.drill_group({**VIEW, "by": "none"}, "#group=a") is None
    assert explore.row_key({"rowId": "(total)", "colId": "threads"}) == "(total)"
    assert explore.row_key({}) is None
    search = explore.updated_view_search("?account=a", ["threads", "csat_mean"], "team", [], "csat_mean")
    assert search == "?account=a&metrics=threads%2Ccsat_mean&by=team&ci=0&chart=csat_mean"


def test_explore_drawn_from_the_address_of_a_filter_change_shows_the_same_view(
        demo_state: state.DashboardState) -> None:
    """A filter change keeps Explore drawn and writes its store into the address; a reload of that address
    must draw the page with the same store (filters and view), or the copied link would show another view."""
    from carepulse.dashboard import filters

    drawn = find(explore.layout(**filters.parse_search("?by=team&ci=0&metrics=threads,csat_mean&chart=csat_mean")),
                 ids.EXPLORE_QUERY).data
    changed = filters.updated_query(drawn, "2026-05-01", None, one_account()["account"], None, None, None)
    assert changed != drawn and changed["by"] == "team" and changed["ci"] == "0"
    reloaded = explore.layout(**filters.parse_search(filters.address(changed)))
    assert find(reloaded, ids.EXPLORE_QUERY).data == changed
    assert find(reloaded, ids.FILTER_ACCOUNT).value == changed["account"]
    assert find(reloaded, ids.FILTER_DATES).start_date == "2026-05-01"


def test_drilling_into_a_row_lists_its_threads(demo_state: state.DashboardState) -> None:
    account = one_account()["account"]
    rows, title, shown = explore.threads_view(VIEW, ("account", account))
    assert rows and {r["account"] for r in rows} == {account}
    assert f"account = {account}" in title and shown == {"group": ["account", account]}
    none, title, _ = explore.threads_view({**VIEW, "by": "channel"}, ("channel", "phone"))
    assert none == [] and "Keine Twitter-Threads" in title  # the German demo ("No Twitter threads")


def test_thread_panel_opens_from_the_hash_or_a_click(demo_state: state.DashboardState) -> None:
    assert explore.thread_panel_content(None) == (False, None)
    rows, _, _ = explore.threads_view(VIEW, None)
    is_open, body = explore.thread_panel_content(rows[0]["thread_id"])
    assert is_open and rows[0]["customer_handle"] in text_of(body)


def xlsx_cells(payload: dict[str, Any]) -> list[Any]:
    sheet = load_workbook(io.BytesIO(base64.b64decode(payload["content"]))).active
    assert sheet is not None
    return [c for row in sheet.iter_rows() for c in row]


def test_exports_of_view_and_threads_hold_no_formula(demo_state: state.DashboardState) -> None:
    view = explore.export_file(ids.EXPLORE_EXPORT_VIEW, "xlsx", VIEW, None)
    assert view["filename"].startswith("carepulse-explore-account-") and view["filename"].endswith(".xlsx")
    cells = xlsx_cells(view)
    # human headers in the demo's language (German); the machine names are in the "columns" sheet
    assert [c.value for c in cells[:6]] == ["Konto", "Threads", "Antwortquote (%)", "Antwortquote, 95 % von (%)",
                                            "Antwortquote, 95 % bis (%)", "Antwortquote, n"]
    account = one_account()["account"]
    content, filename, media = explore.threads_file("xlsx", VIEW, f"#group={account}")
    assert filename.startswith(f"carepulse-threads-account-{account}") and media.endswith("spreadsheetml.sheet")
    cells = xlsx_cells({"content": base64.b64encode(content)})
    assert not [c for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    # string cells are never evaluated: replies keep their leading @ byte for byte (no apostrophe)
    assert any(t.startswith("@") for t in texts) and not any(t.startswith("'@") for t in texts)
    assert all(c.data_type in ("s", "n", "d", "b") for c in cells)
    header = [c.value for c in cells[:20] if c.row == 1]
    accounts = {c.value for c in cells if c.column == header.index("account") + 1 and c.row > 1}
    assert accounts == {account}
    # ids are text and join back to the warehouse exactly (a 64-bit id as a spreadsheet number would not)
    conv = header.index("conversation_id") + 1
    exported = {c.value for c in cells if c.column == conv and c.row > 1}
    stored = state.current().reader.connection().execute(
        "SELECT DISTINCT CAST(conversation_id AS VARCHAR) FROM threads WHERE account = ?", [account]).fetchall()
    assert exported == {r[0] for r in stored} and all(isinstance(v, str) for v in exported)
    csv, _, _ = explore.threads_file("csv", VIEW, None)
    assert csv.decode("utf-8-sig").splitlines()[0].startswith("thread_id;")
    href = explore.threads_export_href("xlsx", VIEW, f"#group={account}")
    assert href.startswith("/export/threads.xlsx?q=") and "group%3D" in href
    parquet = explore.export_file(ids.EXPLORE_EXPORT_VIEW, "parquet", VIEW, None)
    assert len(pd.read_parquet(io.BytesIO(base64.b64decode(parquet["content"])))) >= 3


def test_a_thread_export_says_what_produced_it(demo_state: state.DashboardState) -> None:
    """The filters, the drilled group, the data's as-of time and snapshot travel with the file (XLSX: an
    "about" sheet; Parquet: file metadata); times say their zone in the header."""
    import json

    import pyarrow.parquet as pq

    account = one_account()["account"]
    query = {**VIEW, "from": "2026-06-01"}
    content, _, _ = explore.threads_file("xlsx", query, f"#group={account}")
    workbook = load_workbook(io.BytesIO(content))
    about = {row[0].value: row[1].value for row in workbook["about"].iter_rows()}
    assert json.loads(about["filters"]) == {"date_from": "2026-06-01"}
    assert about["drilled group"] == f"account = {account}"
    assert about["data as of (UTC)"].startswith("2026-11-03T22:47")
    assert about["warehouse snapshot"] == ":".join(str(v) for v in state.snapshot_key() or ())
    header = [c.value for c in next(workbook.worksheets[0].iter_rows(max_row=1))]
    assert "started_at (Europe/Berlin)" in header
    assert int(about["rows"]) == workbook.worksheets[0].max_row - 1
    parquet, _, _ = explore.threads_file("parquet", query, f"#group={account}")
    metadata = pq.read_schema(io.BytesIO(parquet)).metadata
    assert json.loads(metadata[b"carepulse"])["drilled group"] == f"account = {account}"


# ---- Pilot ------------------------------------------------------------------------------------------

def test_pilot_headline_cards_verdicts_and_yardsticks(demo_state: state.DashboardState) -> None:
    kpis, verdicts, yardsticks = pilot.show_headline({})
    text = text_of(kpis)
    for title in ("CSAT, Twitter minus hotline", "Resolution rate, Twitter", "Response rate", "First response, median"):
        assert i18n._(title, "de") in text  # the demo reads in German
    assert "Kaplan-Meier-Median" in text and "95\u202f% KI" in text
    economics = text_of(pilot.show_economics({})[0])  # the cost and benefit cards have their own row
    for title in ("Net benefit of the pilot", "Payback", "Cost per case, Twitter vs hotline"):
        assert i18n._(title, "de") in economics
    assert "€" in economics
    assert "CSAT" in text_of(verdicts)
    assert "53 % der Kunden" in text_of(yardsticks) and "Wir:" in text_of(yardsticks)
    assert pilot.show_volume({})["data"] and pilot.show_speed({})["data"]
    assert "Annahmen" in text_of(pilot.show_cost({}))


def test_pilot_changes_with_the_filter(demo_state: state.DashboardState) -> None:
    assert text_of(pilot.show_headline({})[0]) != text_of(pilot.show_headline(one_account())[0])
    assert pilot.show_volume({})["data"][0]["y"] != pilot.show_volume(one_account())["data"][0]["y"]


def test_answered_within_counts_waiting_threads_as_not_answered() -> None:
    hist = pd.DataFrame({"bin": ["< 5 min", "1-2 h", "unanswered"], "upper_s": [300, 7200, None],
                         "threads": [2, 1, 1]})
    assert pilot.answered_within(hist, 3600) == 0.5
    assert pilot.answered_within(hist.assign(threads=0), 3600) is None


# ---- Data ------------------------------------------------------------------------------------------

def test_data_page_sections(demo_state: state.DashboardState) -> None:
    summary = text_of(data_page.show_summary({}))
    assert i18n._("Tweets") in summary and i18n._("CRM cases") in summary
    runs = data_page.show_runs({})
    assert {r["source"] for r in runs} == {"jsonl", "crm"}
    assert all(r["records_read"] == r["loaded"] + r["duplicate"] + r["quarantined"] for r in runs)
    reasons, records = data_page.show_quarantine({})
    assert isinstance(reasons, list) and isinstance(records, list)
    assert records and all(r["reason"] for r in records)  # the demo plants a few broken records
    assert sum(r["records"] for r in reasons) == len(records)
    message, figure = data_page.show_coverage({})
    # the German demo ("of Twitter threads in this selection have a CRM case")
    assert "der Twitter-Threads in dieser Auswahl haben einen CRM-Fall" in text_of(message)
    assert figure["data"][0]["name"] == i18n._("by conversation id")


# ---- empty states and missing data -----------------------------------------------------------------

def test_without_crm_data_the_pages_say_what_to_run(twcs_state: state.DashboardState) -> None:
    kpis, _, _ = pilot.show_headline({})
    assert "carepulse ingest crm" in text_of(kpis)
    assert "carepulse ingest crm" in text_of(pilot.show_cost({}))
    message, figure = data_page.show_coverage({})
    assert "carepulse ingest crm" in text_of(message) and not figure["data"]
    assert "No CRM data loaded" in text_of(data_page.show_summary({}))
    reasons, records = data_page.show_quarantine({})
    assert records and all(r["reason"] for r in records)
    raw = " ".join(str(r["raw"]) for r in records)
    assert "=HYPERLINK" in raw  # shown as stored, as plain grid text
    assert sum(r["records"] for r in reasons) == len(records)
    rows, note = team.show_queue({})  # the sample's unanswered threads started 3 to 7 weeks before its end
    assert not rows and note.startswith("No thread from the last 14 days is waiting for a first response.")
    assert "18 older unanswered threads" in note
    state.configure(twcs_state.path, replace(twcs_state.settings, queue_max_age_days=60))
    rows, note = team.show_queue({})
    assert rows and "from the last 60 days are waiting" in note


def test_a_missing_warehouse_file_is_an_empty_state(tmp_path: Any) -> None:
    from carepulse.core.config import Settings

    state.configure(tmp_path / "none.duckdb", Settings())
    assert i18n._("No warehouse file yet") in text_of(data_page.show_summary({}))
    assert i18n._("No warehouse file yet") in text_of(pilot.show_headline({})[0])  # pilot.py translates it
    bar = text_of(explore.layout())
    assert i18n._("no data loaded") in bar  # in the configured language


# ---- layouts are functions of the URL query ----------------------------------------------------------

def test_layouts_take_filters_from_the_query(demo_state: state.DashboardState) -> None:
    # values need not exist in the data: a link keeps what it asks for
    query = {"from": "2026-06-01", "to": "2026-06-30", "account": "nordfunk_hilft", "team": "Social Care"}
    # (values need not exist in the data: a link keeps what it asks for)
    for page in (pilot, team, explore, data_page):
        tree = page.layout(**query)
        picker = find(tree, ids.FILTER_DATES)
        assert (picker.start_date, picker.end_date) == ("2026-06-01", "2026-06-30")
        assert find(tree, ids.FILTER_ACCOUNT).value == "nordfunk_hilft"
        assert find(tree, ids.FILTER_TEAM).value == "Social Care"
        assert find(tree, ids.FILTER_CHANNEL).value is None
    store = find(team.layout(**query, thread="x"), ids.TEAM_QUERY)
    assert store.data == query
    tree = explore.layout(**query, metrics="csat_mean,threads", by="team", ci="0")
    assert find(tree, ids.EXPLORE_METRICS).value == ["csat_mean", "threads"]
    assert find(tree, ids.EXPLORE_BY).value == "team"
    assert "ignored from=soon" in text_of(pilot.layout(**{"from": "soon"}))
    for page in (pilot, team, explore):  # issue 12: the team and category filters say what they keep
        assert i18n._(filters.TEAM_CATEGORY_NOTE) in text_of(page.layout(**query))


def test_grids_use_plain_text_cells_only(demo_state: state.DashboardState) -> None:
    for page in (pilot, team, explore, data_page):
        for node in walk(page.layout()):
            if type(node).__name__ == "AgGrid":
                defs = node.columnDefs
                flat = [c for d in defs for c in d.get("children", [d])]
                assert not [c for c in flat if "cellRenderer" in c], node.id
                assert all(not isinstance(c.get("valueFormatter"), str) for c in flat)


# ---- the data manager ---------------------------------------------------------------------------------

def test_the_cache_deduplicates_loads_and_follows_new_snapshots(demo_state: state.DashboardState) -> None:
    state.clear_cache()
    before = demo_state.calls
    first = state.load(views.first_response_histogram, None)
    again = state.load(views.first_response_histogram, None)
    assert again is first and demo_state.calls == before + 1
    stat = os.stat(demo_state.path)
    os.utime(demo_state.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # as a publish would
    state.load(views.first_response_histogram, None)
    assert demo_state.calls == before + 2


def test_a_view_being_computed_is_waited_for_not_computed_twice(demo_state: state.DashboardState) -> None:
    """Single flight: the warm-up and a first browser (or two tabs) asking the same view share one computation."""
    state.clear_cache()
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow_view(*, db: Any, settings: Any) -> dict[str, int]:
        calls.append(1)
        started.set()
        assert release.wait(10)
        return {"threads": 42}

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(state.load, slow_view)
        assert started.wait(10)
        second = pool.submit(state.load, slow_view)
        wait_for_a_waiter(demo_state)
        release.set()
        assert first.result(timeout=10) is second.result(timeout=10)
    assert calls == [1]
    assert state.load(slow_view) == {"threads": 42} and calls == [1]  # and then it is cached
    assert demo_state.in_flight == {}


def test_a_failed_computation_is_not_handed_to_the_waiting_caller(demo_state: state.DashboardState) -> None:
    state.clear_cache()
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def flaky_view(*, db: Any, settings: Any) -> str:
        calls.append(1)
        if len(calls) == 1:
            started.set()
            assert release.wait(10)
            raise RuntimeError("the first try failed")
        return "answered"

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(state.load, flaky_view)
        assert started.wait(10)
        second = pool.submit(state.load, flaky_view)
        wait_for_a_waiter(demo_state)
        release.set()
        with pytest.raises(RuntimeError, match="first try"):
            first.result(timeout=10)
        assert second.result(timeout=10) == "answered"
    assert len(calls) == 2 and demo_state.in_flight == {}


def wait_for_a_waiter(s: state.DashboardState) -> None:
    """Until a second caller waits on the computation in flight (bounded; no fixed sleep decides the test)."""
    deadline = time.monotonic() + 10
    while not any(flight.waiters for flight in list(s.in_flight.values())):
        assert time.monotonic() < deadline, "the second caller never waited"
        time.sleep(0.001)


def test_the_landing_page_is_ready_before_the_server_listens(demo_state: state.DashboardState) -> None:
    """What ``serve`` prepares before it prints the address is exactly what opening ``/`` asks for."""
    from carepulse.dashboard import app

    state.clear_cache()
    app.prepare_landing()
    assert {"scipy.stats", "statsmodels.api"} <= set(sys.modules)
    before = demo_state.calls
    pilot.layout()
    app.show_as_of("/")
    pilot.show_headline({}), pilot.show_volume({}), pilot.show_speed({}), pilot.show_cost({})
    pilot.show_economics({}), pilot.show_hotline({}), pilot.show_staffing({})
    assert demo_state.calls == before


def test_the_warm_up_ends_by_freezing_what_start_up_made(demo_state: state.DashboardState) -> None:
    """Start-up's objects leave the collector's sight once every page is warm: later collections walk only
    what requests make (2-4 ms of a 15 ms callback at 3 M tweets)."""
    import gc

    from carepulse.dashboard import app

    jobs = app.warm_up_jobs()
    assert jobs[-1] is app.freeze_start_up  # after the pages' views, which it freezes too
    try:
        app.freeze_start_up()
        assert gc.get_freeze_count() > 10_000  # the modules and pages this process imported, at least
    finally:
        gc.unfreeze()  # the other tests' collections as before


def test_together_runs_a_callbacks_loads_side_by_side_and_in_order() -> None:
    """The Pilot headline's loads wait for the slowest, not for their sum: three calls that each wait for the
    other two at a barrier finish only if they run at once; answers keep the calls' order; an error reaches
    the caller once every call ended."""
    meet = threading.Barrier(3, timeout=10)
    threads: list[str] = []

    def call(answer: int) -> Any:
        def run() -> int:
            threads.append(threading.current_thread().name)
            meet.wait()
            return answer
        return run

    assert state.together(call(1), call(2), call(3)) == [1, 2, 3]
    assert threading.current_thread().name in threads and len(set(threads)) == 3
    ended: list[str] = []

    def fails() -> None:
        raise ValueError("this selection")

    def slow() -> None:
        time.sleep(0.2)
        ended.append("slow")

    with pytest.raises(ValueError, match="this selection"):
        state.together(fails, slow)
    assert ended == ["slow"]


def test_together_runs_one_after_the_other_while_queries_are_measured() -> None:
    """The benchmark times each metric call alone (state.measuring): the calls then stay on this thread."""
    seen: list[str] = []
    with state.measuring(state.Measure()):
        state.together(lambda: seen.append(threading.current_thread().name),
                       lambda: seen.append(threading.current_thread().name))
    assert seen == [threading.current_thread().name] * 2


def test_records_are_json_ready() -> None:
    frame = pd.DataFrame({"a": [1.5, float("nan")], "t": pd.to_datetime(["2026-05-04 09:44:05", None]),
                          "s": ["x", None]})
    assert components.records(frame) == [{"a": 1.5, "t": "2026-05-04T09:44:05", "s": "x"},
                                         {"a": None, "t": None, "s": None}]
    mixed = pd.DataFrame({"n": [1, 2], "b": [True, False], "i": pd.array([3, None], dtype="Int64"),
                          "z": pd.to_datetime(["2026-05-04 09:44", None]).tz_localize("UTC"),
                          "d": [date(2026, 5, 4), None], "inf": [float("inf"), 0.5]})
    rows = components.records(mixed)
    assert rows == [{"n": 1, "b": True, "i": 3, "z": "2026-05-04T09:44:00+00:00", "d": "2026-05-04",
                     "inf": float("inf")},
                    {"n": 2, "b": False, "i": None, "z": None, "d": None, "inf": 0.5}]
    assert [type(v) for v in rows[0].values()] == [int, bool, int, str, str, float]
    assert components.records(mixed, ["b", "nope"]) == [{"b": True}, {"b": False}]


def test_controls_settling_on_mount_do_not_rewrite_the_url() -> None:
    metrics = list(explore.DEFAULT_METRICS)
    assert explore.same_view("", metrics, explore.DEFAULT_BY, ["ci"], metrics[0])
    assert explore.same_view("?account=a", metrics, explore.DEFAULT_BY, ["ci"], metrics[0])
    assert not explore.same_view("", metrics, "team", ["ci"], metrics[0])
    assert not explore.same_view("", metrics, explore.DEFAULT_BY, [], metrics[0])
    assert explore.same_view("?metrics=threads&by=none&ci=0", ["threads"], "none", [], "threads")


def test_the_cache_is_bounded_by_memory(demo_state: state.DashboardState, monkeypatch: Any) -> None:
    state.clear_cache()
    one = state._size(state.load(views.km_curve, None))
    assert one > 1000
    monkeypatch.setattr(state, "CACHE_BYTES", one + 10_000)
    state.load(views.first_response_histogram, None)
    state.load(views.km_curve, None, as_of=None)  # another key: the oldest entries give way
    assert demo_state.cache_bytes <= one + 10_000
    assert len(demo_state.cache) >= 1


def test_explore_shows_each_text_proxy_beside_its_check_against_csat(demo_state: state.DashboardState) -> None:
    """Issue 12: sentiment means were offered as satisfaction measures without their (weak) validation."""
    *_, notes, _ = explore.show_view({**VIEW, "metrics": "sentiment_last_mean,threads", "by": "none"})
    text = text_of(notes)
    check = i18n._("How far the text proxies stand for satisfaction: {verdict}")  # in the demo's language
    assert check.format(verdict=i18n._("Sentiment as CSAT proxy (Spearman)")) in text
    *_, plain, _ = explore.show_view({**VIEW, "metrics": "threads", "by": "none"})
    assert check.split(":")[0] not in text_of(plain)


def test_the_default_range_is_where_the_data_is_and_the_whole_range_is_one_click(
        twcs_state: state.DashboardState) -> None:
    """The public sample holds one tweet from 2011 and one from 2016 before its weeks of 2017: by default the
    pages start after that gap, say so, and link to the whole range; an explicit range is kept as given."""
    from carepulse.dashboard import filters

    store = filters.query_store("x", {"account": "AppleSupport"})
    assert store.data == {"from": "2017-10-12", "account": "AppleSupport"}
    bar = filters.filter_bar({})
    words = text_of(bar)
    assert "from 12 Oct 2017, where the data is: 2 thread(s) before a gap of weeks without data are left out" in words
    [link] = [c for c in walk(bar) if getattr(c, "id", None) == ids.FILTER_WHOLE_RANGE]
    assert link.href == "?from=2011-08-29"
    assert filters.query_store("x", {"from": "2011-08-29"}).data == {"from": "2011-08-29"}
    assert "where the data is" not in text_of(filters.filter_bar({"from": "2011-08-29"}))


def test_data_without_a_gap_keeps_its_whole_range(demo_state: state.DashboardState) -> None:
    from carepulse.dashboard import filters

    assert filters.query_store("x", {}).data == {}
    assert "where the data is" not in text_of(filters.filter_bar({}))


def test_the_bar_names_an_agent_filter_and_links_to_all_agents(demo_state: state.DashboardState) -> None:
    from carepulse.dashboard import filters

    bar = filters.filter_bar({"agent": "A. Becker", "team": "Social Care"})
    # the demo is German: "Agent: A. Becker ( alle Agenten )"
    assert f"{i18n._('agent')}: A. Becker ( {i18n._('all agents')} )" in text_of(bar)
    assert i18n._("all agents") == "alle Agenten"
    [link] = [c for c in walk(bar) if getattr(c, "children", None) == i18n._("all agents")]
    assert link.href == "?team=Social+Care"


def test_the_audit_log_reads_in_the_page_language(demo_state: state.DashboardState) -> None:
    """Actions and detail keys are codes in the log; the Data page words them (the German demo)."""
    from datetime import UTC, datetime

    from carepulse.warehouse.audit import AuditEntry

    entry = AuditEntry(datetime(2026, 11, 3, 12, 0, tzinfo=UTC), "anna", "export",
                       {"csv_raw": False, "route": "/export/threads.csv", "tweets": 3})
    row = data_page.audit_rows([entry], "Europe/Berlin")[0]
    assert row["action"] == "Download" and row["at"] == "2026-11-03T13:00:00"
    assert row["detail"] == "Roh-CSV: nein · Route: /export/threads.csv · tweets: 3"  # a table name stays
