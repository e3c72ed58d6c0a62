"""Settings: every setting is documented, the documented example parses, mistakes are named."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from datetime import date, time
from pathlib import Path

import pytest

from carepulse.core.config import Settings, load_settings, settings_from_mapping
from carepulse.core.errors import ConfigError

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(?:\[[^\]]+\] )?([a-z_]+)", text, flags=re.M))
    secret_or_derived = {"twitter_bearer_token", "agent_signature_patterns", "business_hours", "cost",
                         "staffing", "twitter_full_archive"}
    missing = [f.name for f in fields(Settings) if f.name not in documented | secret_or_derived]
    assert not missing, f"settings without a row in docs/configuration.md: {missing}"
    for key in ("signature_patterns", "full_archive", "minutes_per_brand_tweet", "hourly_cost_eur",
                "deflection_share", "hotline_fixed_avoided_monthly_eur", "minutes_per_dm_case", "target_share",
                "shrinkage", "hours_per_fte"):
        assert key in documented


def test_the_documented_example_parses_into_the_values_it_shows() -> None:
    example = re.search(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert example
    s = settings_from_mapping(tomllib.loads(example.group(1)))
    assert s.brand_accounts == ("nordfunk_hilft", "nordfunk_b2b")
    assert s.business_hours.hours["sun"] is None
    assert s.business_hours.hours["sat"] == (time(9), time(16))
    assert s.business_hours.holidays == (date(2026, 12, 25), date(2026, 12, 26))
    assert s.cost.channels["phone"].fixed_monthly_eur == 4000
    assert s.cost.pilot_start == date(2026, 5, 1)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"sla_minuts": 30}, "unknown setting(s): sla_minuts"),
        ({"business_hours": {"mon": "20:00-08:00"}}, "business_hours.mon"),
        ({"business_hours": {"monday": "08:00-20:00"}}, "business_hours: unknown key(s) monday"),
        ({"cost": {"channels": {"fax": {"hourly_cost_eur": 1}}}}, "channels: unknown key(s) fax"),
        ({"cost": {"channels": {"phone": {"hourly_cost": 1}}}}, "cost.channels.phone: unknown key(s) hourly_cost"),
        ({"cost": {"deflection": 0.4}}, "cost: unknown key(s) deflection"),
        ({"twitter": {"full_archiv": True}}, "twitter: unknown key(s) full_archiv"),
        ({"twitter": {"full_archive": "yes"}}, "twitter.full_archive: true or false"),
        ({"agents": {"signature_pattern": ["x"]}}, "agents: unknown key(s) signature_pattern"),
        ({"agents": {"signature_patterns": ["(unclosed"]}}, "is not a regular expression"),
        ({"agents": {"signature_patterns": ["no group"]}}, "needs exactly one group"),
        ({"staffing": {"shrink": 0.3}}, "staffing: unknown key(s) shrink"),
        ({"cost": 5}, "[cost] must be a table"),
        ({"twitter": {"bearer_token": "AAAA"}}, "twitter.bearer_token is a secret and is refused"),
        ({"queue_max_age_days": 0}, "queue_max_age_days: must be more than 0"),
    ],
)
def test_mistakes_are_named(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        settings_from_mapping(raw)


def test_environment_and_flags_choose_the_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CAREPULSE_DB", str(tmp_path / "env.duckdb"))
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", "secret-token")
    s = load_settings()
    assert s.db == tmp_path / "env.duckdb"
    assert s.twitter_bearer_token == "secret-token"
    assert "secret-token" not in repr(s)
    assert load_settings(db=tmp_path / "flag.duckdb").db == tmp_path / "flag.duckdb"


def test_the_local_file_holds_the_secret_and_nothing_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TWITTER_BEARER_TOKEN", raising=False)
    local = tmp_path / "carepulse.local.toml"
    local.write_text('[twitter]\nbearer_token = "from-the-local-file"\n', encoding="utf-8")
    assert load_settings().twitter_bearer_token == "from-the-local-file"
    local.write_text('sla_minutes = 30\n[twitter]\nbearer_token = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="holds only \\[twitter\\] bearer_token"):
        load_settings()
