"""Typed settings: defaults here, overridden by a TOML file, then by environment variables.

Every setting has a default so ``carepulse demo`` runs with no file at all. The lookup order is:
``--config FILE`` or ``$CAREPULSE_CONFIG``, else ``./carepulse.toml`` when it exists. Secrets (the
Twitter bearer token) are read only from the environment or from the untracked
``carepulse.local.toml``, never from the tracked config. ``docs/configuration.md`` documents each key.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, time
from pathlib import Path
from typing import Any

from carepulse.errors import ConfigError

DEFAULT_DB = Path("data") / "carepulse.duckdb"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHANNELS = ("twitter", "phone", "email", "chat", "shop", "other")


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours in the configured time zone; only time inside them counts for business-hours metrics."""

    timezone: str = "Europe/Berlin"
    hours: dict[str, tuple[time, time] | None] = field(
        default_factory=lambda: {
            "mon": (time(8), time(20)),
            "tue": (time(8), time(20)),
            "wed": (time(8), time(20)),
            "thu": (time(8), time(20)),
            "fri": (time(8), time(20)),
            "sat": (time(9), time(16)),
            "sun": None,
        }
    )
    holidays: tuple[date, ...] = ()


@dataclass(frozen=True)
class ChannelCost:
    """Cost assumptions of one channel: an agent hour (fully loaded) and fixed monthly costs."""

    hourly_cost_eur: float
    fixed_monthly_eur: float
    default_handled_minutes: float


def _default_costs() -> dict[str, ChannelCost]:
    return {
        "twitter": ChannelCost(hourly_cost_eur=38.0, fixed_monthly_eur=2500.0, default_handled_minutes=6.0),
        "phone": ChannelCost(hourly_cost_eur=34.0, fixed_monthly_eur=4000.0, default_handled_minutes=9.0),
        "email": ChannelCost(hourly_cost_eur=32.0, fixed_monthly_eur=1200.0, default_handled_minutes=8.0),
        "chat": ChannelCost(hourly_cost_eur=34.0, fixed_monthly_eur=1500.0, default_handled_minutes=7.0),
        "shop": ChannelCost(hourly_cost_eur=30.0, fixed_monthly_eur=0.0, default_handled_minutes=15.0),
        "other": ChannelCost(hourly_cost_eur=32.0, fixed_monthly_eur=0.0, default_handled_minutes=8.0),
    }


@dataclass(frozen=True)
class CostModel:
    """The pilot's cost model; shown next to every cost figure so a reader sees the assumptions."""

    channels: dict[str, ChannelCost] = field(default_factory=_default_costs)
    minutes_per_brand_tweet: float = 3.0
    pilot_start: date | None = None
    pilot_setup_eur: float = 15000.0


@dataclass(frozen=True)
class Settings:
    """All settings of one carepulse installation."""

    db: Path = DEFAULT_DB
    timezone: str = "Europe/Berlin"
    locale: str = "de"
    brand_accounts: tuple[str, ...] = ()
    sla_minutes: float = 60.0
    crm_link_window_hours: float = 48.0
    recontact_days: float = 7.0
    min_sample: int = 30
    agent_signature_patterns: tuple[str, ...] = (
        r"\^\s?([A-Z]{2,3})\s*$",
        r"(?:^|\s)[-–—*/]\s?([A-Z][a-z]{2,}|[A-Z]{2,3}|[a-z]{2,3})\s*$",
    )
    business_hours: BusinessHours = field(default_factory=BusinessHours)
    cost: CostModel = field(default_factory=CostModel)
    twitter_bearer_token: str | None = field(default=None, repr=False)
    twitter_full_archive: bool = False
    # Metrics (docs/metrics.md): the channel Twitter is compared with, and the fewest weeks a
    # trend or forecast is computed from (below it the verdict is "not enough data").
    hotline_channel: str = "phone"
    min_weeks: int = 8
    # The Team page's queue lists only threads that started this many days before the as-of time:
    # older unanswered threads are abandoned rather than actionable and would bury the ones that
    # can still be answered. The metrics count every unanswered thread regardless.
    queue_max_age_days: float = 14.0


def _parse_hours(value: Any, key: str) -> tuple[time, time] | None:
    if value in (None, "", "closed"):
        return None
    try:
        start, end = str(value).split("-")
        opens, closes = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError as exc:
        raise ConfigError(f"business_hours.{key}: expected 'HH:MM-HH:MM' or 'closed', got {value!r}") from exc
    if closes <= opens:
        raise ConfigError(f"business_hours.{key}: closing time {closes} is not after opening time {opens}")
    return opens, closes


def _business_hours(raw: dict[str, Any]) -> BusinessHours:
    base = BusinessHours()
    hours = dict(base.hours)
    for key, value in raw.items():
        if key in WEEKDAYS:
            hours[key] = _parse_hours(value, key)
        elif key not in ("timezone", "holidays"):
            raise ConfigError(f"business_hours: unknown key {key!r} (weekdays are {', '.join(WEEKDAYS)})")
    try:
        holidays = tuple(date.fromisoformat(str(d)) for d in raw.get("holidays", ()))
    except ValueError as exc:
        raise ConfigError(f"business_hours.holidays: {exc}") from exc
    return BusinessHours(timezone=str(raw.get("timezone", base.timezone)), hours=hours, holidays=holidays)


def _cost_model(raw: dict[str, Any]) -> CostModel:
    base = CostModel()
    channels = dict(base.channels)
    for name, spec in raw.get("channels", {}).items():
        if name not in CHANNELS:
            raise ConfigError(f"cost.channels: unknown channel {name!r} (known: {', '.join(CHANNELS)})")
        default = channels[name]
        try:
            channels[name] = replace(default, **{k: float(v) for k, v in spec.items()})
        except TypeError as exc:
            raise ConfigError(f"cost.channels.{name}: {exc}") from exc
    pilot_start = raw.get("pilot_start")
    return CostModel(
        channels=channels,
        minutes_per_brand_tweet=float(raw.get("minutes_per_brand_tweet", base.minutes_per_brand_tweet)),
        pilot_start=date.fromisoformat(str(pilot_start)) if pilot_start else None,
        pilot_setup_eur=float(raw.get("pilot_setup_eur", base.pilot_setup_eur)),
    )


_SIMPLE = {"timezone": str, "locale": str, "sla_minutes": float, "crm_link_window_hours": float,
           "recontact_days": float, "min_sample": int, "twitter_full_archive": bool,
           "hotline_channel": str, "min_weeks": int, "queue_max_age_days": float}


def settings_from_mapping(raw: dict[str, Any]) -> Settings:
    """Build settings from a parsed TOML mapping, reporting every unknown key at once."""
    known = {f.name for f in fields(Settings)} | {"brand_accounts", "agents"}
    unknown = sorted(set(raw) - known - {"business_hours", "cost", "twitter"})
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)} (see docs/configuration.md)")
    values: dict[str, Any] = {}
    for key, cast in _SIMPLE.items():
        if key in raw:
            try:
                values[key] = cast(raw[key])
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{key}: {exc}") from exc
    if values.get("queue_max_age_days", 1.0) <= 0:
        raise ConfigError("queue_max_age_days: must be more than 0 (days)")
    if "db" in raw:
        values["db"] = Path(raw["db"])
    if "brand_accounts" in raw:
        values["brand_accounts"] = tuple(str(h).lstrip("@") for h in raw["brand_accounts"])
    if "agents" in raw and "signature_patterns" in raw["agents"]:
        values["agent_signature_patterns"] = tuple(raw["agents"]["signature_patterns"])
    if "business_hours" in raw:
        values["business_hours"] = _business_hours(raw["business_hours"])
    if "cost" in raw:
        values["cost"] = _cost_model(raw["cost"])
    if "twitter" in raw:
        values["twitter_full_archive"] = bool(raw["twitter"].get("full_archive", False))
    return Settings(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def load_settings(config_path: Path | None = None, *, db: Path | None = None) -> Settings:
    """Settings from the config file (if any) and the environment; ``db`` (from ``--db``) wins."""
    path = config_path or (Path(os.environ["CAREPULSE_CONFIG"]) if os.environ.get("CAREPULSE_CONFIG") else None)
    if path is None and Path("carepulse.toml").exists():
        path = Path("carepulse.toml")
    settings = settings_from_mapping(_read_toml(path)) if path else Settings()
    token = os.environ.get("TWITTER_BEARER_TOKEN")
    local = Path("carepulse.local.toml")
    if not token and local.exists():
        token = _read_toml(local).get("twitter", {}).get("bearer_token")
    chosen_db = db or (Path(os.environ["CAREPULSE_DB"]) if os.environ.get("CAREPULSE_DB") else settings.db)
    return replace(settings, db=chosen_db, twitter_bearer_token=token or None)


def describe(settings: Settings) -> dict[str, Any]:
    """A JSON-friendly view of the settings without secrets, for 'assumptions' panels and exports."""

    def plain(value: Any) -> Any:
        if is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in fields(value) if f.name != "twitter_bearer_token"}
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, time | date | Path):
            return str(value)
        return value

    return dict(plain(settings))
