"""Rules the dashboard keeps, checked on its source: no SQL, no HTML or Markdown from data, local by default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carepulse.cli import build_parser

DASHBOARD = Path(__file__).resolve().parents[2] / "carepulse" / "dashboard"
SOURCES = sorted(DASHBOARD.rglob("*.py"))


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(DASHBOARD)))
def test_the_dashboard_writes_no_sql_and_imports_no_loader(path: Path) -> None:
    text = read(path)
    assert not re.search(r"\bSELECT\b|\.execute\(|\bimport duckdb\b", text), "SQL belongs in metrics/"
    assert not re.search(r"^\s*(from|import) etl\b", text, re.M), "the dashboard never imports the loaders"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(DASHBOARD)))
def test_no_markdown_html_or_code_from_data(path: Path) -> None:
    text = read(path)
    for forbidden in ("dcc.Markdown", "Markdown(", "dangerously_set_inner_html", "dangerously_allow_code",
                      "cellRenderer", "overlayNoRowsTemplate", "html.Iframe", "DangerouslySetInnerHTML"):
        assert forbidden not in text, f"{forbidden} in {path.name}"


def test_assets_are_local_and_the_grid_functions_are_formatters_only() -> None:
    js = read(DASHBOARD / "assets" / "dashAgGridFunctions.js")
    assert "innerHTML" not in js and "eval(" not in js
    css = read(DASHBOARD / "assets" / "bootstrap.min.css")
    assert "Bootstrap  v5" in css and "sourceMappingURL" not in css


def test_serve_and_demo_bind_to_this_machine_by_default() -> None:
    parser = build_parser()
    serve = parser.parse_args(["serve"])
    assert (serve.host, serve.port) == ("127.0.0.1", 8050)
    demo = parser.parse_args(["demo"])
    assert demo.host == "127.0.0.1"
