"""Component ids, in one place so pages, callbacks and tests agree on them.

Ids of the shell (navigation, URL, global filters) are shared by every page; ids of a page start
with the page's name, because only one page is rendered at a time and a callback must never fire
for a page that is not shown.
"""

from __future__ import annotations

# ---- shell -------------------------------------------------------------------------------------
URL = "url"  # the address as state: pathname, search (the filters), hash (Explore's drill-down)
PAGES_LOCATION = "_pages_location"  # Dash's routing Location (dash.page_container): writing it draws the page
NAV_PREFIX = "nav-"  # nav-pilot, nav-team, nav-explore, nav-data
AS_OF = "shell-as-of"
VIEWS_MENU = "views-menu"  # the navbar's saved views (dashboard/views_menu.py)
VIEWS_SAVE_OPEN = "views-save-open"
VIEWS_SAVE_DIALOG = "views-save-dialog"
VIEWS_SAVE_NAME = "views-save-name"
VIEWS_SAVE_CONFIRM = "views-save-confirm"
VIEWS_SAVE_MESSAGE = "views-save-message"
VIEWS_SAVED = "views-saved"  # the last saved view's link: the menu redraws when it changes

# ---- global filters (rendered on every page from the URL query) ---------------------------------
FILTER_DATES = "filter-dates"
FILTER_ACCOUNT = "filter-account"
FILTER_CHANNEL = "filter-channel"
FILTER_TEAM = "filter-team"
FILTER_CATEGORY = "filter-category"
FILTER_RESET = "filter-reset"
FILTER_WHOLE_RANGE = "filter-whole-range"
FILTER_PRESET_PREFIX = "filter-preset-"  # filter-preset-last-7-days, ... (metrics.periods.PRESETS)
FILTER_PRESETS = "filter-presets"  # the presets' day ranges, as data for the browser

# ---- thread view: a side panel on Team and on Explore (ids per page: only one page is drawn) -------

def thread_panel(page: str) -> str:
    return f"{page}-thread-panel"


def thread_panel_body(page: str) -> str:
    return f"{page}-thread-panel-body"


def thread_panel_link(page: str) -> str:
    return f"{page}-thread-panel-link"


# ---- Pilot ---------------------------------------------------------------------------------------
PILOT_QUERY = "pilot-query"
PILOT_KPIS = "pilot-kpis"
PILOT_COMPARE = "pilot-compare"  # compare the cards with: previous period / a year before / none
PILOT_VERDICTS = "pilot-verdicts"
PILOT_COST = "pilot-cost"
PILOT_YARDSTICKS = "pilot-yardsticks"
PILOT_VOLUME = "pilot-volume"
PILOT_SPEED = "pilot-speed"
PILOT_ECONOMICS_KPIS = "pilot-economics-kpis"  # net benefit, payback, cost per case: from one PilotView
PILOT_ECONOMICS_ANSWER = "pilot-economics-answer"  # the plain-words answer, filter note, assumptions
PILOT_PAYBACK = "pilot-payback"  # monthly net benefit and the running balance
PILOT_SENSITIVITY = "pilot-sensitivity"
PILOT_HOTLINE = "pilot-hotline"  # the hotline's weekly cases against its pre-launch trend (ITS)
PILOT_HOTLINE_NOTE = "pilot-hotline-note"
PILOT_STAFFING = "pilot-staffing"  # scenario table, sentences, assumptions
PILOT_STAFFING_HEATMAP = "pilot-staffing-heatmap"

# ---- Team ----------------------------------------------------------------------------------------
TEAM_QUERY = "team-query"
TEAM_QUEUE = "team-queue"
TEAM_QUEUE_NOTE = "team-queue-note"
TEAM_HISTOGRAM = "team-histogram"
TEAM_KM = "team-km"
TEAM_SLA = "team-sla"
TEAM_HEAT_ARRIVALS = "team-heat-arrivals"
TEAM_HEAT_SPEED = "team-heat-speed"
TEAM_AGENTS = "team-agents"
TEAM_AGENTS_NOTE = "team-agents-note"

# ---- Explore -------------------------------------------------------------------------------------
EXPLORE_QUERY = "explore-query"
EXPLORE_METRICS = "explore-metrics"
EXPLORE_BY = "explore-by"
EXPLORE_CI = "explore-ci"
EXPLORE_CHART_METRIC = "explore-chart-metric"
EXPLORE_TABLE = "explore-table"
EXPLORE_CHART = "explore-chart"
EXPLORE_DEFINITIONS = "explore-definitions"
EXPLORE_NOTES = "explore-notes"
EXPLORE_DRILL_TITLE = "explore-drill-title"
EXPLORE_THREADS = "explore-threads"
EXPLORE_GROUP = "explore-group"  # store: the drilled group {"by": ..., "key": ...}
EXPLORE_EXPORT_VIEW = "explore-export-view"  # + "-csv", "-xlsx", "-parquet"
EXPLORE_EXPORT_THREADS = "explore-export-threads"
EXPLORE_DOWNLOAD = "explore-download"

# ---- Data ----------------------------------------------------------------------------------------
DATA_QUERY = "data-query"
DATA_SUMMARY = "data-summary"
DATA_RUNS = "data-runs"
DATA_REASONS = "data-reasons"
DATA_QUARANTINE = "data-quarantine"
DATA_COVERAGE = "data-coverage"
DATA_COVERAGE_CHART = "data-coverage-chart"

EXPORT_FORMATS = ("csv", "xlsx", "parquet")


def export_button(prefix: str, fmt: str) -> str:
    """The id of one export button, e.g. ``explore-export-view-xlsx``."""
    return f"{prefix}-{fmt}"
