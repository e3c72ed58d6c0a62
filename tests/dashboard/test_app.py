"""The app as Flask serves it, built in a fresh process (Dash registers page callbacks once per process)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r"""
import json, sys
from pathlib import Path
from carepulse.core.config import Settings
from carepulse.dashboard.app import create_app
import dash

db = Path(sys.argv[1])
app = create_app(db, Settings(db=db))
client = app.server.test_client()
out = {}
index = client.get("/")
out["index_status"] = index.status_code
import re
html = index.get_data(as_text=True)
out["index_external"] = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
out["layout_status"] = client.get("/_dash-layout").status_code
deps = client.get("/_dash-dependencies").get_json()
outputs = [d["output"] for d in deps]
out["duplicate_outputs"] = sorted({o for o in outputs if outputs.count(o) > 1})
out["callbacks"] = len(deps)
out["from_filters"] = sorted(d["output"] for d in deps
                             if any(i["id"] == "filter-account" for i in d["inputs"]) and not d["clientside_function"])
out["to_address"] = sorted(d["inputs"][0]["id"] for d in deps if d["output"].startswith("url.search"))
out["pages"] = sorted(p["path"] for p in dash.page_registry.values())
redirect = client.get("/pilot?account=nordfunk_hilft&from=2026-06-01")
out["redirect"] = [redirect.status_code, redirect.headers.get("Location")]
out["assets"] = [client.get(a).status_code for a in ("/assets/bootstrap.min.css", "/assets/carepulse.css",
                                                     "/assets/dashAgGridFunctions.js")]
from urllib.parse import urlencode
q = urlencode({"q": json.dumps({"by": "account"}), "hash": "#group=nordfunk_b2b"})
export = client.get("/export/threads.csv?" + q)
body = export.get_data().decode("utf-8-sig").splitlines()
out["export"] = [export.status_code, export.headers.get("Content-Disposition", ""), export.mimetype,
                 body[0].split(";")[:3], sorted({line.split(";")[2] for line in body[1:]}), len(body) - 1]
out["export_bad"] = [client.get("/export/threads.exe").status_code,
                     client.get("/export/threads.csv?q=%7Bnot-json").status_code]
hostile = {"from_year_1": {"from": "0001-01-01"}, "to_year_9999": {"to": "9999-12-31"},
           "trailing_junk": {"from": "2026-01-01junk"}, "no_such_day": {"from": "2026-13-45"},
           "lone_surrogate": {"account": "\ud800"}, "too_long": {"team": "x" * 600}}
out["export_hostile"] = {name: client.get("/export/threads.csv?" + urlencode({"q": json.dumps(q)})).status_code
                         for name, q in hostile.items()}
refused = client.get("/export/threads.csv?" + urlencode({"q": json.dumps({"from": "2026-01-01junk"})}))
out["export_refusal"] = refused.get_data(as_text=True)
out["export_deep"] = client.get("/export/threads.csv?" + urlencode({"q": "[" * 1000 + "]" * 1000})).status_code
out["export_huge"] = client.get("/export/threads.csv?" + urlencode({"q": json.dumps({"a": "b" * 30000})})).status_code
out["export_template"] = client.get("/export/threads.csv?" + urlencode(
    {"q": json.dumps({"team": "{{as_of}}", "by": "category"}), "hash": "#group={{sig(1)}}"})).status_code
out["foreign_host"] = [client.get("/", headers={"Host": "attacker.example"}).status_code,
                       client.get("/export/threads.csv", headers={"Host": "attacker.example:8050"}).status_code,
                       client.get("/", headers={"Host": "localhost:8050"}).status_code]
out["headers"] = {k: index.headers.get(k) for k in ("Content-Security-Policy", "X-Frame-Options",
                                                    "X-Content-Type-Options", "Referrer-Policy")}
out["lang"] = re.findall(r'<html lang="([a-z]+)">', html)
layout = client.get("/_dash-layout").get_data(as_text=True)
out["graph_configs"] = sorted(set(re.findall(r'"showSendToCloud": *(true|false)', layout)))
report = client.get("/report.pdf?period=LAST-4-WEEKS")
out["report"] = [report.status_code, report.mimetype, report.get_data()[:5].decode("latin-1"),
                 report.headers.get("Content-Disposition", "")]
bad = client.get("/report.pdf?period=2026-W99")
out["report_bad"] = [bad.status_code, bad.get_data(as_text=True), client.get("/report.exe").status_code]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def served(demo_db: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(demo_db)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_pages_and_routes(served: dict) -> None:
    assert served["index_status"] == 200 and served["layout_status"] == 200
    assert served["pages"] == ["/", "/data", "/explore", "/team"]
    assert served["redirect"] == [302, "/?account=nordfunk_hilft&from=2026-06-01"]


def test_every_callback_output_is_registered_once(served: dict) -> None:
    assert served["callbacks"] > 20
    assert served["duplicate_outputs"] == []


def test_a_filter_change_updates_the_page_query_and_never_the_routing(served: dict) -> None:
    """The filter bar writes each page's query store (the page stays drawn); only the browser writes the
    address, from that store. A filter callback writing ``url.search`` or Dash's ``_pages_location``
    would draw the whole page again on every change."""
    assert served["from_filters"] == ["data-query.data", "explore-query.data", "pilot-query.data", "team-query.data"]
    assert served["to_address"] == ["data-query", "explore-query", "pilot-query", "team-query"]


def test_everything_is_served_locally(served: dict) -> None:
    assert served["assets"] == [200, 200, 200]
    assert served["index_external"] == [], "no CDN: the dashboard must work without internet"


def test_thread_export_is_a_plain_download_of_the_drilled_group(served: dict) -> None:
    status, disposition, media, header, accounts, rows = served["export"]
    assert status == 200 and media == "text/csv"
    assert disposition.startswith('attachment; filename="carepulse-threads-account-nordfunk_b2b-')
    assert header == ["thread_id", "conversation_id", "account"]
    assert accounts == ["nordfunk_b2b"] and rows > 100
    assert served["export_bad"] == [404, 400]


def test_hostile_export_links_are_refused_with_their_reason_never_a_500(served: dict) -> None:
    """A download never silently drops a filter: a link whose filters cannot all apply gets 400 and why."""
    assert served["export_hostile"] == {name: 400 for name in served["export_hostile"]}
    assert served["export_refusal"] == "error: ignored from=2026-01-01junk: not a date like 2026-05-31\n"
    assert served["export_deep"] == 400 and served["export_huge"] == 400
    assert served["export_template"] == 200  # a team named like a SQL placeholder is data, not template


def test_the_report_downloads_as_pdf_and_a_bad_period_is_refused(served: dict) -> None:
    status, media, head, disposition = served["report"]
    assert (status, media, head) == (200, "application/pdf", "%PDF-")
    assert disposition == 'attachment; filename="carepulse-report-LAST-4-WEEKS.pdf"'
    bad_status, text, unknown = served["report_bad"]
    assert bad_status == 400 and text.startswith("error: --period '2026-W99'") and text.count("\n") == 1
    assert unknown == 404


def test_foreign_host_names_are_refused_and_security_headers_sent(served: dict) -> None:
    """DNS rebinding: a page on another site that points its own name at this machine gets nothing."""
    assert served["foreign_host"] == [400, 400, 200]
    headers = served["headers"]
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert re.search(r"script-src 'self' 'unsafe-eval'( 'sha256-[A-Za-z0-9+/=]+')+;", policy), policy
    assert "http:" not in policy and "https:" not in policy  # nothing loaded from elsewhere
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert served["lang"] == ["de"]  # the demo's locale
    assert served["graph_configs"] in ([], ["false"])  # no chart offers Plotly's cloud
