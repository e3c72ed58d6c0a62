"""One home per definition: Python metrics register with ``@computes``, SQL metrics name source measures,
and each unit has one formatter."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, get_args

import pytest

from carepulse.metrics import engine, registry, units
from carepulse.metrics.registry import SQL_KINDS, RegistryError, computation, computes, list_metrics
from carepulse.metrics.sources import SOURCES, expand
from carepulse.metrics.sql import bound


def test_every_python_metric_has_exactly_one_computing_function() -> None:
    registry.check_computations()
    names = {m.name: computation(m.name).name for m in list_metrics() if m.kind not in SQL_KINDS}
    assert names["pilot_net_benefit_eur"] == "carepulse.metrics.pilot_figures.compute"
    assert names["thanks_csat_auc"] == "carepulse.metrics.proxies.compute"
    assert names["threads_forecast_4w"] == "carepulse.metrics.comparisons.compute"
    assert engine.COMPUTING_MODULES  # imported statically, no importlib


def test_computes_refuses_unknown_sql_and_taken_names() -> None:
    def compute(ctx: Any, metrics: Any) -> dict[str, Any]:
        return {}

    with pytest.raises(RegistryError, match="'nope' is not a registered Python metric"):
        computes("nope")(compute)
    with pytest.raises(RegistryError, match="'threads' is not a registered Python metric"):
        computes("threads")(compute)
    with pytest.raises(RegistryError, match=r"already computed by carepulse\.metrics\.pilot_figures\.compute"):
        computes("pilot_net_benefit_eur")(compute)


def test_sql_metrics_name_measures_and_get_their_joins() -> None:
    sla = registry.get("sla_met_share")
    assert sla.numerator == "count(*) FILTER (WHERE @sla_met)"
    assert bound(sla).numerator == f"count(*) FILTER (WHERE ({SOURCES['threads'].measures['sla_met'].sql}))"
    assert registry.get("thanks_rate").joins == ("last",)  # the measure `thanked` needs the last tweet
    assert registry.get("fcr_rate").joins == ("rc",)


def test_an_unknown_measure_is_reported() -> None:
    with pytest.raises(Exception, match="no measure"):
        expand("threads", "count(*) FILTER (WHERE @no_such_measure)")
    broken = replace(registry.get("response_rate"), name="bad", numerator="count(*) FILTER (WHERE @nope)")
    with pytest.raises(RegistryError, match="'bad': source threads has no measure 'nope'"):
        registry._check((*registry.METRICS, broken))


def test_every_unit_has_one_formatter_used_by_cli_and_dashboard() -> None:
    from carepulse.cli.commands.metrics import format_value
    from carepulse.dashboard import formatting as fmt

    assert set(units.UNITS) == set(get_args(registry.Unit))
    for unit in units.UNITS:
        for value in (0.25, 1234.5, None):
            assert format_value(value, unit) == units.format_value(value, unit, "en") == fmt.value(value, unit, "en")
    assert units.format_value(9.41, "EUR", "de") == "9,41\u00a0€"
    assert units.format_value(0.936, "share") == "93.6%"


def test_share_answered_within_counts_waiting_threads_as_not_answered() -> None:
    import pandas as pd

    from carepulse.metrics.views import answered_within

    frame = pd.DataFrame({"upper_s": [300.0, 900.0, None, None], "threads": [2, 1, 3, 4]})
    assert answered_within(frame, 900) == 0.3
    assert answered_within(frame, 300) == 0.2
    assert answered_within(frame.iloc[0:0], 300) is None
