"""Typed settings: defaults here, overridden by a TOML file, then by environment variables.

Every setting has a default so ``carepulse demo`` runs with no file at all. The lookup order is:
``--config FILE`` or ``$CAREPULSE_CONFIG``, else ``./carepulse.toml`` when it exists. Secrets (the
Twitter bearer token) are read only from the environment or from the untracked
``carepulse.local.toml``, never from the tracked config. ``docs/configuration.md`` documents each key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, time
from pathlib import Path
from typing import Any

from carepulse.core.errors import ConfigError

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
    """The pilot's cost model; shown next to every cost figure so a reader sees the assumptions.

    A deflected Twitter case saves the hotline's *variable* cost (handled minutes x hourly cost):
    a hotline's licences and seats do not shrink because one call fewer came in. Fixed hotline
    costs count as avoided only through ``hotline_fixed_avoided_monthly_eur``, the seats or
    licences actually cut (default none). ``deflection_share`` is the share of Twitter cases that
    would otherwise have reached the hotline; nobody knows it exactly, so every figure that rests
    on it is also shown at ``deflection_sensitivity`` and as a break-even share (docs/economics.md).
    """

    channels: dict[str, ChannelCost] = field(default_factory=_default_costs)
    minutes_per_brand_tweet: float = 3.0
    minutes_per_dm_case: float = 5.0
    pilot_start: date | None = None
    pilot_setup_eur: float = 15000.0
    deflection_share: float = 0.5
    deflection_sensitivity: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
    hotline_fixed_avoided_monthly_eur: float = 0.0
    projection_months: int = 24


@dataclass(frozen=True)
class Staffing:
    """The staffing what-if (Erlang C): the service level to plan for and what an agent hour is worth.

    ``target_share`` of threads answered within the SLA (``sla_minutes``), agents busy at most
    ``max_occupancy`` of their desk time, ``shrinkage`` of paid time off the desk (breaks,
    training, sickness), ``hours_per_fte`` paid hours a week of one full-time agent. Arrivals are
    the mean per hour of the week over the last ``weeks`` complete weeks.
    """

    target_share: float = 0.8
    max_occupancy: float = 0.85
    shrinkage: float = 0.3
    hours_per_fte: float = 38.5
    scenarios: tuple[float, ...] = (1.0, 1.5, 2.0)
    weeks: int = 8


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
    staffing: Staffing = field(default_factory=Staffing)
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


_COST_KEYS = ("channels", "minutes_per_brand_tweet", "minutes_per_dm_case", "pilot_start", "pilot_setup_eur",
              "deflection_share", "deflection_sensitivity", "hotline_fixed_avoided_monthly_eur", "projection_months")


def _cost_model(raw: dict[str, Any]) -> CostModel:
    base = CostModel()
    channels = dict(base.channels)
    for name, spec in _table(raw, "channels", set(CHANNELS)).items():
        default = channels[name]
        if not isinstance(spec, dict):
            raise ConfigError(f"[cost.channels.{name}] must be a table of settings")
        extra = sorted(set(spec) - {f.name for f in fields(default)})
        if extra:
            raise ConfigError(f"cost.channels.{name}: unknown key(s) {', '.join(extra)} (see docs/configuration.md)")
        try:
            channels[name] = replace(default, **{k: float(v) for k, v in spec.items()})
        except TypeError as exc:
            raise ConfigError(f"cost.channels.{name}: {exc}") from exc
    unknown = sorted(set(raw) - set(_COST_KEYS))
    if unknown:
        raise ConfigError(f"cost: unknown key(s) {', '.join(unknown)} (see docs/configuration.md)")
    pilot_start = raw.get("pilot_start")
    try:
        model = CostModel(
            channels=channels,
            minutes_per_brand_tweet=float(raw.get("minutes_per_brand_tweet", base.minutes_per_brand_tweet)),
            minutes_per_dm_case=float(raw.get("minutes_per_dm_case", base.minutes_per_dm_case)),
            pilot_start=date.fromisoformat(str(pilot_start)) if pilot_start else None,
            pilot_setup_eur=float(raw.get("pilot_setup_eur", base.pilot_setup_eur)),
            deflection_share=float(raw.get("deflection_share", base.deflection_share)),
            deflection_sensitivity=tuple(float(v) for v in raw.get("deflection_sensitivity",
                                                                   base.deflection_sensitivity)),
            hotline_fixed_avoided_monthly_eur=float(raw.get("hotline_fixed_avoided_monthly_eur",
                                                            base.hotline_fixed_avoided_monthly_eur)),
            projection_months=int(raw.get("projection_months", base.projection_months)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cost: {exc}") from exc
    shares = (model.deflection_share, *model.deflection_sensitivity)
    if any(not 0 <= v <= 1 for v in shares):
        raise ConfigError("cost.deflection_share and cost.deflection_sensitivity: shares between 0 and 1")
    if not 1 <= model.projection_months <= 120:
        raise ConfigError("cost.projection_months: between 1 and 120")
    return model


def _staffing(raw: dict[str, Any]) -> Staffing:
    base = Staffing()
    unknown = sorted(set(raw) - {f.name for f in fields(Staffing)})
    if unknown:
        raise ConfigError(f"staffing: unknown key(s) {', '.join(unknown)} (see docs/configuration.md)")
    try:
        staffing = Staffing(
            target_share=float(raw.get("target_share", base.target_share)),
            max_occupancy=float(raw.get("max_occupancy", base.max_occupancy)),
            shrinkage=float(raw.get("shrinkage", base.shrinkage)),
            hours_per_fte=float(raw.get("hours_per_fte", base.hours_per_fte)),
            scenarios=tuple(float(v) for v in raw.get("scenarios", base.scenarios)),
            weeks=int(raw.get("weeks", base.weeks)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"staffing: {exc}") from exc
    if not (0 < staffing.target_share < 1 and 0 < staffing.max_occupancy <= 1 and 0 <= staffing.shrinkage < 1
            and staffing.hours_per_fte > 0 and staffing.weeks >= 1 and staffing.scenarios
            and all(v > 0 for v in staffing.scenarios)):
        raise ConfigError("staffing: target_share in (0, 1), max_occupancy in (0, 1], shrinkage in [0, 1), "
                          "hours_per_fte > 0, weeks >= 1, scenarios > 0")
    return staffing


# The days a filter may name: a date outside them is a typo (0001-01-01, 9999-12-31), not a question
# about data, and would overflow the time-zone arithmetic. One home for the CLI, the URL and exports.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2100, 12, 31)

SECRETS = {"twitter": ("bearer_token",)}


def _table(raw: dict[str, Any], section: str, known: set[str]) -> dict[str, Any]:
    """A section's table, refusing what the docs promise to refuse: a non-table, unknown keys, and a
    secret written into the tracked settings file (where it would end up in version control)."""
    table = raw.get(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"[{section}] must be a table of settings, got {type(table).__name__}")
    secrets = [k for k in SECRETS.get(section, ()) if k in table]
    if secrets:
        raise ConfigError(f"{section}.{secrets[0]} is a secret and is refused in the settings file (it may be "
                          "tracked by version control): set $TWITTER_BEARER_TOKEN in the environment or put it "
                          "in the untracked carepulse.local.toml")
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{section}: unknown key(s) {', '.join(unknown)} (see docs/configuration.md)")
    return table


def _patterns(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError("agents.signature_patterns: a list of regular expressions")
    for pattern in values:
        try:
            if re.compile(pattern).groups != 1:
                raise ConfigError(f"agents.signature_patterns: {pattern!r} needs exactly one group (the name)")
        except re.error as exc:
            raise ConfigError(f"agents.signature_patterns: {pattern!r} is not a regular expression: {exc}") from exc
    return tuple(values)


_SIMPLE = {"timezone": str, "locale": str, "sla_minutes": float, "crm_link_window_hours": float,
           "recontact_days": float, "min_sample": int, "twitter_full_archive": bool,
           "hotline_channel": str, "min_weeks": int, "queue_max_age_days": float}


def settings_from_mapping(raw: dict[str, Any]) -> Settings:
    """Build settings from a parsed TOML mapping, reporting every unknown key at once."""
    known = {f.name for f in fields(Settings)} | {"brand_accounts", "agents"}
    unknown = sorted(set(raw) - known - {"business_hours", "cost", "staffing", "twitter"})
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
    agents = _table(raw, "agents", {"signature_patterns"})
    if "signature_patterns" in agents:
        values["agent_signature_patterns"] = _patterns(agents["signature_patterns"])
    if "business_hours" in raw:
        values["business_hours"] = _business_hours(_table(raw, "business_hours", {*WEEKDAYS, "timezone",
                                                                                   "holidays"}))
    if "cost" in raw:
        values["cost"] = _cost_model(_table(raw, "cost", set(_COST_KEYS)))
    if "staffing" in raw:
        values["staffing"] = _staffing(_table(raw, "staffing", {f.name for f in fields(Staffing)}))
    twitter = _table(raw, "twitter", {"full_archive"})
    if "full_archive" in twitter:
        if not isinstance(twitter["full_archive"], bool):
            raise ConfigError("twitter.full_archive: true or false")
        values["twitter_full_archive"] = twitter["full_archive"]
    return Settings(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # here: most commands find no config file, and every command imports this module

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def _local_token(raw: dict[str, Any], path: Path) -> str | None:
    """The untracked local file holds secrets only: ``[twitter] bearer_token``; anything else is refused,
    so a setting put there by mistake is not silently ignored."""
    unknown = sorted(set(raw) - {"twitter"})
    twitter = raw.get("twitter", {})
    if unknown or not isinstance(twitter, dict) or set(twitter) - {"bearer_token"}:
        raise ConfigError(f"{path}: holds only [twitter] bearer_token (settings go into carepulse.toml)")
    token = twitter.get("bearer_token")
    if token is not None and not isinstance(token, str):
        raise ConfigError(f"{path}: twitter.bearer_token must be text")
    return token


def load_settings(config_path: Path | None = None, *, db: Path | None = None) -> Settings:
    """Settings from the config file (if any) and the environment; ``db`` (from ``--db``) wins."""
    path = config_path or (Path(os.environ["CAREPULSE_CONFIG"]) if os.environ.get("CAREPULSE_CONFIG") else None)
    if path is None and Path("carepulse.toml").exists():
        path = Path("carepulse.toml")
    settings = settings_from_mapping(_read_toml(path)) if path else Settings()
    token = os.environ.get("TWITTER_BEARER_TOKEN")
    local = Path("carepulse.local.toml")
    if not token and local.exists():
        token = _local_token(_read_toml(local), local)
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
