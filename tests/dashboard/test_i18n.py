"""The interface in German and English: every marked message has its German, the converted parts of the
interface show no string that bypasses the catalog, and the language switch persists and sets <html lang>."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from carepulse.dashboard import i18n

DASHBOARD = Path(i18n.__file__).parent
# The parts of the interface already drawn through the catalog (module, function). A function listed here
# may show no text that does not go through _(): tests fail when a visible string has no translation.
CONVERTED = {
    "app.py": ("shell",),
    "views_menu.py": ("navbar_items", "menu_items", "save"),
    "period_compare.py": ("delta_line", "add_deltas"),
    "filters.py": ("filter_bar", "preset_row", "default_range_note"),
    "pages/pilot.py": ("layout", "compare_control", "report_links"),
    "pages/team.py": ("layout", "columns", "_threads", "_days", "queue_note", "measured_to", "agents_note"),
    "pages/explore.py": ("layout", "metric_options", "view_columns", "notes", "definitions", "proxy_checks",
                         "drill_title"),
    "pages/data.py": ("layout", "summary_cards", "show_coverage", "show_audit"),
    "figures.py": ("weekdays", "empty_figure", "weekly_volume", "speed_over_time", "cost_per_case",
                   "first_response_histogram", "km_curve", "sla_by_day", "weekday_hour_heatmap", "breaches_by_agent",
                   "breaches_by_weekday", "_breach_heatmap", "metric_chart", "link_coverage"),
    "economics_figures.py": ("month_label", "payback_chart", "hotline_chart", "staffing_heatmap"),
    "components.py": ("grid", "column_defs", "column_group", "card", "kpi", "empty_state", "page_header",
                      "thread_panel", "thread_view", "_case_line", "_tweet_item"),
}
COMPONENT_MODULES = {"html", "dbc", "dcc", "components"}
NAMES = {"carepulse"}  # a name, the same in every language
TEXT_KEYWORDS = {"children", "title", "label", "subtitle", "placeholder", "comparison", "detail"}
# From the metrics layer, shown through _() by the dashboard (the test methods of metrics/deltas.py).
EXTERNAL = ("two-proportion z-test", "exact test of two Poisson rates per day",
            "approximate z-test from the two 95% intervals")


def marked_messages() -> set[str]:
    found: set[str] = set()
    for path in DASHBOARD.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_") \
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def test_every_marked_message_has_its_german_with_the_same_placeholders() -> None:
    german = i18n.catalog("de")
    messages = marked_messages() | set(EXTERNAL)
    assert len(messages) > 50
    missing = sorted(m for m in messages if m not in german)
    assert missing == [], f"no German for: {missing}"
    for message in messages:
        assert set(re.findall(r"\{\w*\}", message)) == set(re.findall(r"\{\w*\}", german[message])), message


def test_each_message_lives_in_one_catalog_file() -> None:
    from babel.messages.pofile import read_po

    owner: dict[str, str] = {}
    for path in sorted((i18n.CATALOGS / "de" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id:
                    assert message.id not in owner, f"{message.id!r} in {owner.get(message.id)} and {path.name}"
                    owner[str(message.id)] = path.name


def _is_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[A-Za-z]{2}", node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_is_text(v) for v in node.values if isinstance(v, ast.Constant))
    return False


def _component_call(node: ast.Call) -> bool:
    func = node.func
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in COMPONENT_MODULES


def bypassing(module: str, functions: tuple[str, ...], source: str | None = None) -> list[str]:
    tree = ast.parse(source if source is not None else (DASHBOARD / module).read_text(encoding="utf-8"))
    bad: list[str] = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef) or fn.name not in functions:
            continue
        for call in ast.walk(fn):
            if not isinstance(call, ast.Call) or not _component_call(call):
                continue
            shown = [*call.args, *(k.value for k in call.keywords if k.arg in TEXT_KEYWORDS)]
            for arg in shown:
                items = arg.elts if isinstance(arg, ast.List | ast.Tuple) else [arg]
                bad += [f"{module}:{item.lineno} {ast.unparse(item)[:60]}" for item in items
                        if _is_text(item) and not (isinstance(item, ast.Constant) and item.value in NAMES)]
    return bad


@pytest.mark.parametrize("module", sorted(CONVERTED))
def test_converted_parts_show_no_text_outside_the_catalog(module: str) -> None:
    assert bypassing(module, CONVERTED[module]) == []


def test_the_check_sees_a_bare_string() -> None:
    """The check above would catch a label written without _() (it reads the code, so it must see this)."""
    source = "def layout():\n    return html.Div([html.H5('Does the pilot pay off?'), dbc.Button(_('Save'))])\n"
    assert bypassing("probe.py", ("layout",), source) == ["probe.py:2 'Does the pilot pay off?'"]


def test_translation_follows_the_given_language() -> None:
    assert i18n._("Reset", "de") == "Zurücksetzen" and i18n._("Reset", "en") == "Reset"
    assert i18n._("a message nobody wrote", "de") == "a message nobody wrote"


SCRIPT = r"""
import json, re, sys
from pathlib import Path
from carepulse.core.config import Settings
from carepulse.dashboard.app import create_app
db = Path(sys.argv[1])
app = create_app(db, Settings(db=db))
client = app.server.test_client()
out = {}
def seen():
    html = client.get("/").get_data(as_text=True)
    layout = client.get("/_dash-layout").get_data(as_text=True)
    return {"lang": re.findall(r'<html lang="(\w+)">', html), "logout_de": "Gespeicherte Ansichten" in layout,
            "en": "Saved views" in layout}
out["default"] = seen()
switched = client.get("/lang/en?next=/team%3Ffrom%3D2026-06-01")
out["switch"] = [switched.status_code, switched.headers.get("Location"), "carepulse_lang=en" in
                 switched.headers.get("Set-Cookie", "")]
out["after"] = seen()
out["bad"] = client.get("/lang/fr").status_code
out["offsite"] = client.get("/lang/de?next=//evil.example/").headers.get("Location")
print(json.dumps(out))
"""


def test_the_language_switch_persists_and_sets_html_lang(demo_db: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(demo_db)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["default"] == {"lang": ["de"], "logout_de": True, "en": False}  # the German demo: German
    assert out["switch"] == [302, "/team?from=2026-06-01", True]
    assert out["after"] == {"lang": ["en"], "logout_de": False, "en": True}  # the cookie persists
    assert out["bad"] == 404 and out["offsite"] == "/"


def test_metric_labels_have_one_german_home() -> None:
    """A metric's German label is written once (metrics/labels_de.py): the catalogs take it from there, so a
    verdict naming the metric, the Explore table and the exports' headers cannot drift apart."""
    from babel.messages.pofile import read_po

    from carepulse.metrics import labels_de
    from carepulse.metrics.registry import METRICS

    labels = {m.label for m in METRICS}
    for path in sorted((i18n.CATALOGS / "de" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            repeated = [m.id for m in read_po(handle) if m.id in labels]
        assert repeated == [], f"{path.name} repeats metric labels (their German is in labels_de.py): {repeated}"
    german = i18n.catalog("de")
    assert all(german[m.label] == labels_de.LABELS[m.name] for m in METRICS)
    assert i18n._("First response, median", "de") == labels_de.LABELS["first_response_median_s"]
