"""How a CRM export's columns and values map onto carepulse's canonical case fields.

Every CRM names things differently ("Fallnummer", "Kanal", "gelöst"), writes dates in its own
locale and uses its own decimal separator. Rather than guessing, a small TOML file states the
correspondence once per CRM, and :func:`load_mapping` checks it as a whole before any data is read,
so a typo is reported as one clear :class:`~carepulse.core.errors.ConfigError` naming every bad key,
not as thousands of quarantined rows. Without a mapping the export must already use the canonical
header names and values (:data:`DEFAULT_MAPPING`). ``docs/crm.md`` documents the format.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import duckdb

from carepulse.core.errors import ConfigError

Channel = Literal["twitter", "phone", "email", "chat", "shop", "other"]
Outcome = Literal["resolved", "unresolved", "escalated", "open", "duplicate"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)

#: Characters trimmed from every value and header; NBSP is common in spreadsheet exports.
WHITESPACE = " \t\r\n\u00a0"

DEFAULT_TIMEZONE = "Europe/Berlin"


@dataclass(frozen=True)
class CanonicalField:
    """One field of a CRM case as carepulse stores it (documented in docs/crm.md)."""

    name: str
    type: str
    required: bool
    meaning: str


CANONICAL_FIELDS: tuple[CanonicalField, ...] = (
    CanonicalField("case_id", "text", True,
                   "the CRM's case number; unique; a case seen again replaces the older version"),
    CanonicalField("channel", "text", True, "where the case came in: " + ", ".join(CHANNELS)),
    CanonicalField("opened_at", "timestamp", True, "when the case was opened"),
    CanonicalField("closed_at", "timestamp", False, "when the case was closed; not before opened_at"),
    CanonicalField("outcome", "text", False, "final state: " + ", ".join(OUTCOMES) + "; empty = not known"),
    CanonicalField("customer_ref", "text", False, "the CRM's customer number (never a name)"),
    CanonicalField("twitter_handle", "text", False, "the customer's Twitter/X handle, stored without '@'"),
    CanonicalField("conversation_id", "integer", False, "id of any tweet of the case's Twitter conversation"),
    CanonicalField("agent", "text", False, "agent (or agent code) who handled the case"),
    CanonicalField("team", "text", False, "team of that agent"),
    CanonicalField("category", "text", False, "the CRM's case category"),
    CanonicalField("handled_minutes", "number", False, "agent time spent on the case, minutes, >= 0"),
    CanonicalField("csat", "integer", False, "satisfaction score 1..5"),
    CanonicalField("nps", "integer", False, "likelihood to recommend 0..10"),
)
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in CANONICAL_FIELDS)
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.name for f in CANONICAL_FIELDS if f.required)

_SOURCE_KEYS = ("delimiter", "decimal", "date_format", "timezone", "sheet")
_VALUE_FIELDS: dict[str, tuple[str, ...]] = {"channel": CHANNELS, "outcome": OUTCOMES}


def value_key(value: str) -> str:
    """The form export values are compared in: trimmed and lower-cased (same as the SQL side)."""
    return value.strip(WHITESPACE).lower()


@dataclass(frozen=True)
class Mapping:
    """A parsed, validated mapping file.

    ``columns`` maps canonical field -> export header; a canonical field it does not name is looked
    up under its canonical name (optional fields may be absent). ``channel_values`` and
    ``outcome_values`` map :func:`value_key` of an export value -> canonical value; canonical
    values are always accepted as themselves.
    """

    columns: dict[str, str] = field(default_factory=dict)
    channel_values: dict[str, str] = field(default_factory=dict)
    outcome_values: dict[str, str] = field(default_factory=dict)
    delimiter: str | None = None
    decimal: str = "."
    date_format: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    sheet: str | None = None
    path: Path | None = None

    def header_for(self, canonical: str) -> str:
        """The export header that holds ``canonical``."""
        return self.columns.get(canonical, canonical)

    def values_for(self, canonical_field: str) -> dict[str, str]:
        """Export value key -> canonical value for ``channel`` or ``outcome``, identities included."""
        explicit = self.channel_values if canonical_field == "channel" else self.outcome_values
        return {**{v: v for v in _VALUE_FIELDS[canonical_field]}, **explicit}


DEFAULT_MAPPING = Mapping()


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; every problem is reported at once in one ConfigError."""
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"mapping file not found: {path}") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"mapping file {path} is a directory") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    problems: list[str] = []
    mapping = _mapping_from_dict(raw, problems, path)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return mapping


def mapping_from_dict(raw: dict[str, Any], path: Path | None = None) -> Mapping:
    """Like :func:`load_mapping` for an already parsed TOML document (used by tests and callers)."""
    problems: list[str] = []
    mapping = _mapping_from_dict(raw, problems, path)
    if problems:
        where = f"{path}: " if path else "mapping: "
        raise ConfigError(where + "; ".join(problems))
    return mapping


def _mapping_from_dict(raw: dict[str, Any], problems: list[str], path: Path | None) -> Mapping:
    for section in sorted(set(raw) - {"source", "columns", "values"}):
        problems.append(f"unknown section [{section}] (known: [source], [columns], [values.channel], "
                        "[values.outcome])")
    source = _table(raw, "source", problems)
    columns = _table(raw, "columns", problems)
    values = _table(raw, "values", problems)

    for key in sorted(set(source) - set(_SOURCE_KEYS)):
        problems.append(f"source.{key}: unknown key (known: {', '.join(_SOURCE_KEYS)})")
    delimiter = _string(source, "source.delimiter", problems, "delimiter")
    if delimiter is not None and (len(delimiter) != 1 or delimiter in "\"\r\n"):
        problems.append(
            f"source.delimiter: must be one character other than a quote or newline, got {delimiter!r}")
    decimal = _string(source, "source.decimal", problems, "decimal") or "."
    if decimal not in (".", ","):
        problems.append(f"source.decimal: must be \".\" or \",\", got {decimal!r}")
    date_format = _string(source, "source.date_format", problems, "date_format")
    if date_format is not None:
        _check_date_format(date_format, problems)
    timezone = _string(source, "source.timezone", problems, "timezone") or DEFAULT_TIMEZONE
    _check_timezone(timezone, problems)
    sheet = _string(source, "source.sheet", problems, "sheet")

    mapped_columns: dict[str, str] = {}
    for key, header in columns.items():
        if key not in FIELD_NAMES:
            problems.append(f"columns.{key}: unknown canonical field (known: {', '.join(FIELD_NAMES)})")
        elif not isinstance(header, str) or not header.strip(WHITESPACE):
            problems.append(f"columns.{key}: must be the export's column header as a non-empty string")
        else:
            mapped_columns[key] = header.strip(WHITESPACE)

    for key in sorted(set(values) - set(_VALUE_FIELDS)):
        problems.append(f"values.{key}: only [values.channel] and [values.outcome] can be mapped")
    channel_values = _value_table(values, "channel", problems)
    outcome_values = _value_table(values, "outcome", problems)

    return Mapping(
        columns=mapped_columns,
        channel_values=channel_values,
        outcome_values=outcome_values,
        delimiter=delimiter,
        decimal=decimal,
        date_format=date_format,
        timezone=timezone,
        sheet=sheet,
        path=path,
    )


def _table(raw: dict[str, Any], key: str, problems: list[str]) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        problems.append(f"{key}: must be a table ([{key}])")
        return {}
    return value


def _string(table: dict[str, Any], label: str, problems: list[str], key: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"{label}: must be a string, got {value!r}")
        return None
    return value


def _value_table(values: dict[str, Any], canonical_field: str, problems: list[str]) -> dict[str, str]:
    table = values.get(canonical_field, {})
    if not isinstance(table, dict):
        problems.append(
            f"values.{canonical_field}: must be a table of \"export value\" = \"canonical value\"")
        return {}
    allowed = _VALUE_FIELDS[canonical_field]
    result: dict[str, str] = {}
    for export_value, canonical in table.items():
        label = f"values.{canonical_field}.{export_value!r}"
        if not isinstance(canonical, str) or canonical not in allowed:
            problems.append(
                f"{label}: {canonical!r} is not a canonical {canonical_field} ({', '.join(allowed)})")
            continue
        key = value_key(export_value)
        if not key:
            problems.append(f"{label}: the export value is empty")
        elif key in result and result[key] != canonical:
            problems.append(f"{label}: maps to {canonical!r} but another spelling of the same value "
                            f"maps to {result[key]!r} (values are matched case-insensitively)")
        else:
            result[key] = canonical
    return result


def _check_date_format(date_format: str, problems: list[str]) -> None:
    """Reject a format DuckDB's strptime cannot use, so it fails here and not mid-load."""
    if "%" not in date_format:
        problems.append(f"source.date_format: {date_format!r} has no % directive (e.g. \"%d.%m.%Y %H:%M\")")
        return
    try:
        duckdb.connect(":memory:").execute("SELECT try_strptime('', ?)", [date_format]).fetchall()
    except duckdb.Error as exc:
        problems.append(f"source.date_format: {date_format!r} is not a valid strptime format ({exc})")


def _check_timezone(timezone: str, problems: list[str]) -> None:
    """Check the zone against DuckDB's ICU database, the one that will convert the timestamps."""
    row = duckdb.connect(":memory:").execute(
        "SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [timezone]
    ).fetchone()
    if not row or not row[0]:
        problems.append(f"source.timezone: unknown time zone {timezone!r} (e.g. \"Europe/Berlin\", \"UTC\")")
