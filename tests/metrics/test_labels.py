"""German labels (carepulse/metrics/labels_de.py), the seed of the message catalog: every metric and every
breakdown has one, every metric a German description that keeps its identifiers, none names something gone, and
the module stays plain data a catalog tool can read."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

from carepulse.metrics import labels_de
from carepulse.metrics.context import BREAKDOWNS
from carepulse.metrics.registry import METRICS


def test_every_metric_of_the_registry_has_a_german_label() -> None:
    missing = [m.name for m in METRICS if not labels_de.LABELS.get(m.name, "").strip()]
    assert not missing, f"metrics without a German label in carepulse/metrics/labels_de.py: {missing}"


def test_no_german_label_names_a_metric_that_is_gone() -> None:
    assert not set(labels_de.LABELS) - {m.name for m in METRICS}


def test_german_labels_are_distinct_so_export_headers_are() -> None:
    twice = [label for label, n in Counter(labels_de.LABELS.values()).items() if n > 1]
    assert not twice


def test_every_metric_of_the_registry_has_a_german_description() -> None:
    missing = [m.name for m in METRICS if not labels_de.DESCRIPTIONS.get(m.name, "").strip()]
    assert not missing, f"metrics without a German description in carepulse/metrics/labels_de.py: {missing}"


def test_no_german_description_names_a_metric_that_is_gone() -> None:
    assert not set(labels_de.DESCRIPTIONS) - {m.name for m in METRICS}


def test_german_descriptions_follow_the_order_of_the_labels() -> None:
    assert list(labels_de.DESCRIPTIONS) == list(labels_de.LABELS)


_IDENTIFIER = re.compile(r"`([^`]+)`|(?<![\w.-])(\w*_[\w.]*\w)")


def _identifiers(text: str) -> set[str]:
    """Code identifiers and setting names in a description: anything in backticks, any word with an underscore."""
    return {quoted or word for quoted, word in _IDENTIFIER.findall(text)}


def test_identifiers_helper_finds_backticks_and_underscores() -> None:
    text = "As sla_met_share, see `[cost]` in `carepulse.toml`; sla_minutes."
    assert _identifiers(text) == {"sla_met_share", "[cost]", "carepulse.toml", "sla_minutes"}


def test_german_descriptions_keep_the_identifiers_of_the_english_ones() -> None:
    """A setting or metric name (`sla_minutes`, first_response_km_median_s) is looked up as written: not translated."""
    lost = {
        m.name: sorted(missing)
        for m in METRICS
        if (missing := _identifiers(m.description) - _identifiers(labels_de.DESCRIPTIONS.get(m.name, "")))
    }
    assert not lost, f"identifiers missing from the German descriptions: {lost}"


def test_every_breakdown_has_a_german_label() -> None:
    assert set(labels_de.BREAKDOWNS) == set(BREAKDOWNS)
    assert all(label.strip() for label in labels_de.BREAKDOWNS.values())


def test_the_labels_are_plain_data() -> None:
    """Only assignments of str -> str dicts (and the docstring): no imports, no code to run."""
    tree = ast.parse(Path(labels_de.__file__).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        assert isinstance(node, ast.AnnAssign | ast.Assign), ast.dump(node)[:80]
        value = node.value
        assert isinstance(value, ast.Dict)
        assert all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in value.keys)
        assert all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in value.values)
