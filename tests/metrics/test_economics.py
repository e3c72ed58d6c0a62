"""Pilot economics worked by hand (docs/economics.md): marginal-cost net benefit, slices that add up,
a CRM export shorter than the tweets, no CRM data, break-even share, payback projection.

Scenario E (as-of Tue 31 Oct 2017 12:00 UTC; both channels 60 EUR an agent hour = 1 EUR a minute):
  Twitter threads, each answered with one brand reply: T1 Mon 2 Oct, T2 Mon 9 Oct, T3 16 Oct,
  T4 23 Oct (10:00 UTC); T5 starts Mon 30 Oct and waits. Twitter CRM cases: c1 on T1 (Rechnung, 12 min),
  c2 on T2 (Umzug, 6 min). T3 and T4 have no case: 1 brand reply x 3 min each.
  Phone: p1 5 Oct Rechnung 10 min, p2 20 Oct Umzug 20 min, p3 25 Oct Rechnung 15 min.
  Fixed: Twitter 310 EUR a month (10 a day), phone 620 (20 a day); deflection 50 %; set-up 100 EUR.

  Twitter cases 4 (T1..T4; T5 is unanswered and has no case). Minutes 12 + 6 + 3 + 3 = 24 -> 24 EUR.
  Twitter active 2 .. 30 Oct = 29 days -> fixed 290. Twitter cost 314, per case 78.5.
  Phone active 5 .. 25 Oct = 21 days -> fixed 420; labour 45; cost 465; 3 cases: 155 per case;
  variable cost per case 45 / 3 = 15.
  Net benefit 4 x 0.5 x 15 - 314 = -284. Break-even share 314 / (4 x 15) = 314 / 60.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from carepulse.core.config import ChannelCost, CostModel, Settings
from carepulse.metrics import engine
from carepulse.metrics.context import Filters
from carepulse.warehouse import Warehouse
from tests.metrics.fixtures import TH, ThreadRow, insert_cases, insert_threads

AS_OF = datetime(2017, 10, 31, 12, 0, tzinfo=UTC)
NAMES = ["cost_per_case", "costed_cases", "twitter_cases", "hotline_variable_cost_per_case",
         "pilot_net_benefit_eur", "deflection_breakeven_share", "pilot_payback_month"]


def _settings(tmp_path: Path, **cost: Any) -> Settings:
    channels = {**CostModel().channels,
                "twitter": ChannelCost(hourly_cost_eur=60.0, fixed_monthly_eur=310.0, default_handled_minutes=6.0),
                "phone": ChannelCost(hourly_cost_eur=60.0, fixed_monthly_eur=620.0, default_handled_minutes=9.0)}
    return Settings(db=tmp_path / "wh.duckdb", min_sample=1,
                    cost=replace(CostModel(), channels=channels, pilot_setup_eur=100.0, **cost))


def _at(day: int) -> datetime:
    return datetime(2017, 10, day, 10, 0, tzinfo=UTC)


def _case(case_id: str, channel: str, day: int, category: str, minutes: float, thread: str | None = None
          ) -> dict[str, Any]:
    return {"case_id": case_id, "channel": channel, "opened_at": _at(day) + timedelta(hours=1),
            "closed_at": _at(day) + timedelta(hours=2), "outcome": "resolved", "customer_ref": case_id,
            "category": category, "handled_minutes": minutes, "linked_thread_id": thread,
            "link_method": "conversation" if thread else "none"}


def _threads(warehouse: Warehouse) -> None:
    insert_threads(warehouse, [ThreadRow(f"T{i}", TH, _at(d), _at(d) + timedelta(minutes=20))
                               for i, d in enumerate((2, 9, 16, 23), start=1)]
                   + [ThreadRow("T5", TH, _at(30))])


@pytest.fixture
def scenario_e(tmp_path: Path) -> tuple[Warehouse, Settings]:
    settings = _settings(tmp_path)
    warehouse = Warehouse(settings.db)
    _threads(warehouse)
    insert_cases(warehouse, [
        _case("c1", "twitter", 2, "Rechnung", 12, "T1"), _case("c2", "twitter", 9, "Umzug", 6, "T2"),
        _case("p1", "phone", 5, "Rechnung", 10), _case("p2", "phone", 20, "Umzug", 20),
        _case("p3", "phone", 25, "Rechnung", 15),
    ])
    return warehouse, settings


def _values(warehouse: Warehouse, settings: Settings, by: str | None = None, filters: Filters | None = None,
            names: list[str] | None = None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    result = engine.compute(names or NAMES, by, filters, db=warehouse.reader(), settings=settings, as_of=AS_OF)
    total = {k: c.value for k, c in result.total.items()}
    groups = {g: {k: c.value for k, c in cells.items()} for g, cells in result.groups.items()}
    return total, groups


def test_marginal_cost_net_benefit(scenario_e: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = scenario_e
    total, _ = _values(warehouse, settings)
    assert total["twitter_cases"] == 4
    assert total["costed_cases"] == 4 + 3
    assert total["cost_per_case"] == pytest.approx((314 + 465) / 7)
    assert total["hotline_variable_cost_per_case"] == pytest.approx(15.0)
    assert total["pilot_net_benefit_eur"] == pytest.approx(4 * 0.5 * 15 - 314)
    assert total["deflection_breakeven_share"] == pytest.approx(314 / 60)
    assert total["pilot_payback_month"] is None
    _, by_channel = _values(warehouse, settings, by="channel")
    assert by_channel["twitter"]["cost_per_case"] == pytest.approx(314 / 4)
    assert by_channel["phone"]["cost_per_case"] == pytest.approx(465 / 3)


def test_hotline_fixed_costs_are_not_avoided(scenario_e: tuple[Warehouse, Settings]) -> None:
    """Phone fixed cost 0: the phone's cost per case falls to 15, the net benefit does not move.
    Only an explicit cut counts: 31 EUR a month cut over Twitter's 29 active days adds 29."""
    warehouse, settings = scenario_e
    no_fixed = replace(settings, cost=replace(settings.cost, channels={
        **settings.cost.channels, "phone": ChannelCost(hourly_cost_eur=60.0, fixed_monthly_eur=0.0,
                                                       default_handled_minutes=9.0)}))
    total, by_channel = _values(warehouse, no_fixed, by="channel")
    assert total["pilot_net_benefit_eur"] == pytest.approx(-284.0)
    assert by_channel["phone"]["cost_per_case"] == pytest.approx(15.0)
    cut = replace(settings, cost=replace(settings.cost, hotline_fixed_avoided_monthly_eur=31.0))
    assert _values(warehouse, cut)[0]["pilot_net_benefit_eur"] == pytest.approx(-284.0 + 29.0)


def test_slices_add_up_to_the_whole(scenario_e: tuple[Warehouse, Settings]) -> None:
    """By category: Twitter minutes Rechnung 12, Umzug 6, (none) 6 of 24 -> fixed 145, 72.5, 72.5;
    phone minutes Rechnung 25, Umzug 20 of 45 -> fixed 420 x 25/45, 420 x 20/45. Every group is valued
    at the selection's hotline cost per case (15): Rechnung 1 x 7.5 - 157 = -149.5, Umzug 7.5 - 78.5 =
    -71, (none) 2 x 7.5 - 78.5 = -63.5; together -284."""
    warehouse, settings = scenario_e
    total, groups = _values(warehouse, settings, by="category")
    assert {g: v["pilot_net_benefit_eur"] for g, v in groups.items()} == pytest.approx(
        {"Rechnung": -149.5, "Umzug": -71.0, "(none)": -63.5})
    assert sum(v["pilot_net_benefit_eur"] for v in groups.values()) == pytest.approx(total["pilot_net_benefit_eur"])
    rechnung_cost = 12 + 145 + 25 + 420 * 25 / 45
    assert groups["Rechnung"]["cost_per_case"] == pytest.approx(rechnung_cost / 3)
    costs = sum(v["cost_per_case"] * v["costed_cases"] for v in groups.values())
    assert costs == pytest.approx(314 + 465)
    assert sum(v["twitter_cases"] for v in groups.values()) == total["twitter_cases"]


def test_a_filter_carries_its_share_of_fixed_costs(scenario_e: tuple[Warehouse, Settings]) -> None:
    """Category Rechnung: Twitter 12 min + 290 x 12/24 = 157 for 1 case; phone 25 min + 420 x 25/45 for 2.
    The hotline is valued over Rechnung calls: 25 / 2 = 12.5 -> net 1 x 0.5 x 12.5 - 157."""
    warehouse, settings = scenario_e
    total, by_channel = _values(warehouse, settings, by="channel", filters=Filters(category="Rechnung"))
    assert by_channel["twitter"]["cost_per_case"] == pytest.approx(157.0)
    assert by_channel["phone"]["cost_per_case"] == pytest.approx((25 + 420 * 25 / 45) / 2)
    assert total["pilot_net_benefit_eur"] == pytest.approx(0.5 * 12.5 - 157)
    account_total, _ = _values(warehouse, settings, filters=Filters(account=TH))
    assert account_total["hotline_variable_cost_per_case"] == pytest.approx(15.0)  # calls have no account


def test_a_crm_export_shorter_than_the_tweets(tmp_path: Path) -> None:
    """Phone cases only from 20 Oct (p2, p3): active 20 .. 25 Oct = 6 days -> fixed 6 x 20 = 120, not
    the month's 620: (20 + 15 + 120) / 2 = 77.5 per case. Variable 35 / 2 = 17.5 -> net 4 x 0.5 x 17.5
    - 314 = -279."""
    settings = _settings(tmp_path)
    warehouse = Warehouse(settings.db)
    _threads(warehouse)
    insert_cases(warehouse, [
        _case("c1", "twitter", 2, "Rechnung", 12, "T1"), _case("c2", "twitter", 9, "Umzug", 6, "T2"),
        _case("p2", "phone", 20, "Umzug", 20), _case("p3", "phone", 25, "Rechnung", 15),
    ])
    total, by_channel = _values(warehouse, settings, by="channel")
    assert by_channel["phone"]["cost_per_case"] == pytest.approx(77.5)
    assert by_channel["twitter"]["cost_per_case"] == pytest.approx(314 / 4)
    assert total["pilot_net_benefit_eur"] == pytest.approx(-279.0)


def test_no_crm_data_means_no_verdict(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    warehouse = Warehouse(settings.db)
    _threads(warehouse)
    result = engine.compute(NAMES, db=warehouse.reader(), settings=settings, as_of=AS_OF)
    for name in ("cost_per_case", "pilot_net_benefit_eur", "deflection_breakeven_share", "pilot_payback_month",
                 "hotline_variable_cost_per_case"):
        assert result.total[name].value is None, name
    assert result.total["twitter_cases"].value == 4
    note = result.total["pilot_net_benefit_eur"].note
    assert note is not None and note.startswith("cannot be judged: no CRM data")
    assert "not yet paid back" not in (result.total["pilot_payback_month"].note or "")


def test_payback_projection_on_a_steady_volume(tmp_path: Path) -> None:
    """Ten complete weeks (Mon 4 Sep .. Sun 12 Nov 2017, Berlin) with 7 answered threads each Monday, one
    brand reply each (3 min at 1 EUR a minute = 3 EUR); no fixed costs; ten phone calls of 13 min in
    October -> 13 EUR a call saved; deflection 100 %: margin 13 - 3 = 10 EUR a case. 70 cases -> +700;
    set-up 1,000 -> -300 at the end, not paid back. The forecast of a constant 7 a week is 7 a week:
    +70 a week, so the 5th week after the last complete one (week of 6 Nov) reaches +50: its Sunday
    6 Nov + 7 x 5 + 6 = 17 Dec -> projected 2017-12, the range the same (no noise to spread it)."""
    flat = ChannelCost(hourly_cost_eur=60.0, fixed_monthly_eur=0.0, default_handled_minutes=13.0)
    settings = Settings(db=tmp_path / "wh.duckdb", min_sample=1, cost=replace(
        CostModel(), channels={**CostModel().channels, "twitter": flat, "phone": flat}, pilot_setup_eur=1000.0,
        deflection_share=1.0))
    warehouse = Warehouse(settings.db)
    monday = datetime(2017, 9, 4, 8, 0, tzinfo=UTC)
    insert_threads(warehouse, [
        ThreadRow(f"w{week}-{k}", TH, monday + timedelta(weeks=week, minutes=k),
                  monday + timedelta(weeks=week, minutes=k + 30))
        for week in range(10) for k in range(7)])
    insert_cases(warehouse, [{"case_id": f"p{i}", "channel": "phone", "opened_at": _at(2 + i),
                              "outcome": "resolved", "handled_minutes": 13.0} for i in range(10)])
    result = engine.compute(["pilot_net_benefit_eur", "pilot_payback_month", "pilot_payback_projected_month"],
                            db=warehouse.reader(), settings=settings, ci=True,
                            as_of=datetime(2017, 11, 12, 23, 0, tzinfo=UTC))
    assert result.total["pilot_net_benefit_eur"].value == pytest.approx(700.0)
    assert result.total["pilot_payback_month"].value is None
    projected = result.total["pilot_payback_projected_month"]
    assert (projected.value, projected.ci_low, projected.ci_high) == ("2017-12", "2017-12", "2017-12")
    assert projected.note is not None and projected.note.startswith("projected payback 2017-12")


def test_a_desk_that_cannot_break_even_is_not_projected_to(scenario_e: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = scenario_e
    result = engine.compute(["pilot_payback_projected_month"], db=warehouse.reader(), settings=settings,
                            as_of=AS_OF)
    cell = result.total["pilot_payback_projected_month"]
    assert cell.value is None
    assert cell.note is not None and ("not projected to pay back" in cell.note or "no projection" in cell.note)


def test_payback_is_not_judged_when_the_date_filter_cuts_off_the_start(
        scenario_e: tuple[Warehouse, Settings]) -> None:
    warehouse, settings = scenario_e
    result = engine.compute(["pilot_payback_month"], filters=Filters(date_from=date(2017, 11, 1)),
                            db=warehouse.reader(), settings=settings, as_of=AS_OF)
    assert result.total["pilot_payback_month"].value is None


def test_cost_per_case_interval_from_the_spread_of_handled_minutes(scenario_e: tuple[Warehouse, Settings]) -> None:
    """Twitter observations: c1 12, c2 6, T3 3, T4 3 min (1 EUR a minute): mean 6, s^2 = (198 - 4 x 36) / 3 = 18;
    variance of the total labour 4 x 18 = 72 -> 78.5 +- 1.96 x sqrt(72) / 4. Phone: 10, 20, 15: s^2 = 25,
    3 x 25 = 75 -> 155 +- 1.96 x sqrt(75) / 3. Total: (314 + 465) / 7 +- 1.96 x sqrt(72 + 75) / 7."""
    warehouse, settings = scenario_e
    z = 1.959963984540054
    by_channel = engine.compute(["cost_per_case"], "channel", db=warehouse.reader(), settings=settings, as_of=AS_OF)
    twitter, phone = by_channel.groups["twitter"]["cost_per_case"], by_channel.groups["phone"]["cost_per_case"]
    assert (twitter.ci_low, twitter.ci_high) == pytest.approx((78.5 - z * 72 ** 0.5 / 4, 78.5 + z * 72 ** 0.5 / 4))
    assert (phone.ci_low, phone.ci_high) == pytest.approx((155 - z * 75 ** 0.5 / 3, 155 + z * 75 ** 0.5 / 3))
    total = by_channel.total["cost_per_case"]
    half = z * (72 + 75) ** 0.5 / 7
    assert (total.ci_low, total.ci_high) == pytest.approx(((314 + 465) / 7 - half, (314 + 465) / 7 + half))
