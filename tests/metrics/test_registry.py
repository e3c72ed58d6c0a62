"""The registry is whole: every metric has a description, a docs entry and a golden-value test,
and inconsistent declarations are reported all at once."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from carepulse.core.errors import ConfigError
from carepulse.metrics import registry
from carepulse.metrics.registry import Metric, RegistryError, list_metrics, validate
from tests.metrics.test_golden import GOLDEN

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def documented_names() -> set[str]:
    return set(re.findall(r"^### `([a-z0-9_]+)`$", DOCS.read_text(encoding="utf-8"), flags=re.MULTILINE))


def test_every_metric_has_a_description_a_docs_entry_and_a_golden_test() -> None:
    golden = {name for expected in GOLDEN.values() for name in expected}
    documented = documented_names()
    problems = []
    for m in list_metrics():
        if len(m.description.split()) < 5:
            problems.append(f"{m.name}: description too short")
        if m.name not in documented:
            problems.append(f"{m.name}: no '### `{m.name}`' entry in docs/metrics.md")
        if m.name not in golden:
            problems.append(f"{m.name}: no golden value in tests/metrics/test_golden.py")
    assert not problems, "\n".join(problems)


def test_docs_and_golden_tests_name_only_registered_metrics() -> None:
    known = {m.name for m in list_metrics()}
    assert documented_names() - known == set()
    assert {n for expected in GOLDEN.values() for n in expected} - known == set()


def test_validation_reports_every_problem_at_once() -> None:
    good = registry.get("response_rate")
    broken = [
        replace(good, name="Bad Name"),
        replace(good, name="no_description", description=" "),
        replace(good, name="ratio_without_parts", numerator=None),
        replace(good, name="wilson_on_a_mean", kind="mean", column="frs", ci="wilson"),
        replace(good, name="unknown_join", joins=("nope",)),
        replace(registry.get("csat_diff_twitter_hotline"), name="statistic_by_account",
                breakdowns=frozenset({"account"})),
        replace(good, name="threads"),
    ]
    joins = {"threads": frozenset({"tc"})}
    problems = validate([*list_metrics(), *broken], joins)
    text = "\n".join(problems)
    for fragment in ("'Bad Name': name must be snake_case", "'no_description': needs a label and a description",
                     "'ratio_without_parts': kind ratio needs numerator", "'wilson_on_a_mean': a Wilson interval",
                     "'unknown_join': source threads has no join(s) ['nope']",
                     "'statistic_by_account': statistics are for the whole selection",
                     "'threads': declared twice"):
        assert fragment in text
    assert len(problems) >= 7


def test_the_shipped_registry_is_consistent() -> None:
    from carepulse.metrics.sources import SOURCES

    assert validate(list_metrics(), {n: frozenset(s.joins) for n, s in SOURCES.items()}) == []


def test_unknown_metric_names_are_reported_together() -> None:
    with pytest.raises(ConfigError, match="unknown metric\\(s\\): nope, nada"):
        registry.resolve(["threads", "nope", "nada"])


def test_registry_error_is_a_config_error() -> None:
    assert issubclass(RegistryError, ConfigError)
    assert isinstance(list_metrics()[0], Metric)


def test_default_set_has_the_agreed_headline_keys() -> None:
    defaults = set(registry.default_metrics())
    for key in ("tweets", "customer_tweets", "brand_tweets", "threads", "answered_threads", "response_rate",
                "first_response_median_s", "first_response_p90_s", "first_response_km_median_s",
                "reply_time_median_s", "sla_met_share", "resolution_rate", "fcr_rate", "recontact_7d_rate",
                "csat_mean", "csat_top2_share", "nps", "cost_per_case", "cost_per_resolved_case",
                "pilot_net_benefit_eur", "pilot_payback_month"):
        assert key in defaults
