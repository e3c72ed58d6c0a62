"""Team page additions without a browser: the breach heatmaps, ranked bars, tables sized to their rows,
the keyboard options of the queue and the "waiting measured to" line with its snapshot check."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest
from dash.testing import ignore_register_page

from carepulse.dashboard import components, figures, state
from carepulse.metrics import engine
from carepulse.metrics.breaches import NO_AGENT, BreachCounts, arrange
from carepulse.metrics.context import Filters

with ignore_register_page():
    from carepulse.dashboard.pages import explore, team

AS_OF = datetime(2017, 11, 1, 8, 0, tzinfo=UTC)
ASSETS = Path(__file__).resolve().parents[2] / "carepulse" / "dashboard" / "assets"


def counts() -> BreachCounts:
    rows = [(f"agent{i:02d}", 2, 10, i) for i in range(1, 19)]  # 18 agents: 15 shown, 3 summed (1 + 2 + 3)
    return arrange([*rows, (NO_AGENT, 7, 23, 4), ("<b>x</b>", 1, 0, 1)], as_of=AS_OF, timezone="Europe/Berlin")


def test_breach_heatmaps_write_the_counts_in_the_cells() -> None:
    grid = counts()
    fig = figures.breaches_by_agent(grid, "de")
    go.Figure(fig)  # plotly's own validator: every property exists
    heat = fig["data"][0]
    assert heat["type"] == "heatmap" and heat["texttemplate"] == "%{text}"
    assert heat["colorscale"] == figures.BREACH_SCALE
    assert heat["y"][0] == "agent18" and heat["y"][-2:] == ["übrige (4 Agenten)", "kein Agent (wartend, ohne Signatur)"]
    named = figures.breaches_by_agent(arrange([("<b>x</b>", 1, 0, 1)], as_of=AS_OF, timezone="UTC"), "en")
    assert named["data"][0]["y"] == ["&lt;b&gt;x&lt;/b&gt;"]  # a name from the data is text, never markup
    assert heat["text"][0][10] == "18" and heat["text"][0][9] == ""  # zero cells stay blank, counts are written
    assert heat["z"][-2][10] == 1 + 2 + 3 and heat["z"][-2][0] == 1 and heat["z"][-1][23] == 4
    assert sum(map(sum, heat["z"])) == grid.total == sum(range(1, 19)) + 4 + 1
    assert "Europe/Berlin" in fig["layout"]["xaxis"]["title"]["text"]
    weekdays = figures.breaches_by_weekday(grid, "de")
    go.Figure(weekdays)
    cells = weekdays["data"][0]
    assert cells["y"] == figures.weekdays("de") and cells["z"][1][10] == sum(range(1, 19))
    assert cells["z"][6][23] == 4 and cells["text"][6][23] == "4" and sum(map(sum, cells["z"])) == grid.total


def test_no_breach_says_so() -> None:
    empty = arrange([], as_of=AS_OF, timezone="UTC")
    fig = figures.breaches_by_agent(empty, "en")
    assert not fig["data"] and "No SLA breach" in fig["layout"]["annotations"][0]["text"]


def test_ranked_bars_largest_first_top_then_others() -> None:
    keys = [f"g{i:02d}" for i in range(30)]
    values: list[float | None] = [float(i) for i in range(30)]
    values[3] = None
    order, others, rest = figures.ranked_bars(keys, values, additive=True)
    assert [keys[i] for i in order] == [f"g{i:02d}" for i in range(29, 17, -1)]
    assert rest == 18 and others == sum(range(18)) - 3  # the group without a value adds nothing
    assert figures.ranked_bars(keys, values, additive=False)[1] is None
    assert figures.ranked_bars(keys[:13], values[:13], additive=True) == (
        sorted(range(13), key=lambda i: (values[i] is None, -(values[i] or 0))), None, 0)


def test_metric_chart_of_many_groups_is_readable() -> None:
    frame = pd.DataFrame({"agent": [f"Agent with a rather long name number {i}" for i in range(53)],
                          "threads": list(range(53))})
    fig = figures.metric_chart(frame, "agent", "threads", "Threads", "count", "en", additive=True)
    go.Figure(fig)
    bar = fig["data"][0]
    assert bar["orientation"] == "h" and len(bar["y"]) == figures.TOP_BARS + 1
    assert bar["x"][0] == 52 and bar["x"][:12] == sorted(bar["x"][:12], reverse=True)
    assert bar["y"][-1] == "others (41 groups)" and bar["x"][-1] == sum(range(41))
    axis = fig["layout"]["yaxis"]
    assert axis["tickmode"] == "array" and axis["tickvals"] == bar["y"]  # every bar labelled, none skipped
    assert all(len(t) <= figures.LABEL_CHARS for t in axis["ticktext"])
    shares = frame.assign(share=[i / 53 for i in range(53)])
    share_fig = figures.metric_chart(shares, "agent", "share", "Share", "share", "en")
    assert share_fig["data"][0]["x"][-1] is None  # a share of "the rest" is no sum: the table has them
    hours = pd.DataFrame({"hour": [f"{h:02d}" for h in range(24)], "threads": [24 - h for h in range(24)]})
    by_hour = figures.metric_chart(hours, "hour", "threads", "Threads", "count", "en", additive=True)
    assert by_hour["data"][0]["x"] == [f"{h:02d}" for h in range(24)]  # the day in its order, all 24 labels


def test_tables_show_many_rows_at_once() -> None:
    assert components.sized_to_rows() == {"pagination": True, "paginationPageSize": 25,
                                          "paginationPageSizeSelector": [25, 50, 100], "domLayout": "autoHeight"}
    agents = components.grid("t", team.AGENT_COLUMNS, None, "en", rows_at_once=components.PAGE_ROWS)
    assert agents.dashGridOptions["paginationPageSize"] == 25 and agents.dashGridOptions["domLayout"] == "autoHeight"
    assert "height" not in agents.style  # the grid is as tall as its rows


def test_the_queue_opens_a_row_from_the_keyboard_as_a_click_does() -> None:
    queue = components.grid("q", team.QUEUE_COLUMNS, None, "en", row_id="thread_id", open_on_keys=True)
    options = queue.dashGridOptions
    assert options["tabToNextCell"] == {"function": "cpLeaveGridOnTab(params)"}
    assert queue.eventListeners == {"cellKeyDown": ["cpOpenRowOnKey(params, setGridProps)"]}
    js = (ASSETS / "gridKeyboard.js").read_text(encoding="utf-8")
    for name in ("cpLeaveGridOnTab", "cpOpenRowOnKey", "cellClicked"):
        assert name in js
    assert "innerHTML" not in js and "eval(" not in js and "http" not in js


def test_waiting_is_measured_to_the_as_of_time_and_the_queue_follows_new_snapshots() -> None:
    line = team.measured_to(datetime(2017, 11, 1, 9, 0), "Europe/Berlin", "en")
    assert line.startswith("Waiting measured to 1 Nov 2017 09:00 (Europe/Berlin)") and "newest record" in line
    assert not team.snapshot_changed([1, 2, 3], [1, 2, 3])
    assert team.snapshot_changed([1, 2, 4], [1, 2, 3]) and team.snapshot_changed(None, [1, 2, 3])
    assert team.snapshot_changed([1, 2, 3], None) and not team.snapshot_changed(None, None)


def test_the_team_page_draws_the_breaches_of_the_demo(demo_state: state.DashboardState) -> None:
    by_agent, by_weekday = team.show_breaches({})
    z = by_agent["data"][0]["z"]
    metric = engine.compute(["sla_breached_threads"], filters=Filters(), db=demo_state.reader,
                            settings=demo_state.settings).total["sla_breached_threads"].value
    assert sum(map(sum, z)) == sum(map(sum, by_weekday["data"][0]["z"])) == metric > 0
    assert len(z) <= 15 + 2
    assert team.show_measured_to(None).startswith("Wartezeit gemessen bis ")  # the German demo


@pytest.mark.parametrize("check", [lambda layout: "team-breach-agents" in str(layout),
                                   lambda layout: "team-refresh" in str(layout)])
def test_the_layout_holds_the_new_parts(demo_state: state.DashboardState, check: Any) -> None:
    assert check(team.layout())


def test_explore_table_sizes_to_its_rows(demo_state: state.DashboardState) -> None:
    text = str(explore.layout())
    assert "'paginationPageSize': 25" in text and "autoHeight" in text


def test_the_interval_reloads_the_queue_only_for_a_new_snapshot(demo_state: state.DashboardState) -> None:
    import dash

    shown = list(state.snapshot_key() or ())
    assert team.check_snapshot(1, shown) is dash.no_update
    assert team.check_snapshot(2, [0, 0, 0]) == shown  # the store changes, so the queue callback runs
