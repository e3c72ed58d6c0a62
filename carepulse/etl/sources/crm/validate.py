"""The validation of staged CRM records: one SQL statement ``crm_raw`` -> ``crm_parsed``, a reason per bad record."""

from __future__ import annotations

import re

from carepulse.etl.sources.crm.common import lit
from carepulse.etl.sources.crm.mapping import CHANNELS, FIELD_NAMES, OUTCOMES, WHITESPACE, Mapping

_ISO_RE = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?"
_ISO_OFFSET_RE = r".*[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)"
_ISO_EXAMPLE = "ISO 8601, e.g. 2026-11-24 14:05 or 2026-11-24T13:05:00Z"


def _timestamp_sql(column: str, mapping: Mapping) -> str:
    """Text -> TIMESTAMPTZ (UTC): the mapping's format if any, else (and as fallback) ISO 8601.

    Values without an offset are wall-clock times in the mapping's time zone. ISO text is matched
    by a regular expression first because DuckDB's cast accepts trailing junk after a timestamp.
    """
    zone = lit(mapping.timezone)
    iso = (
        f"CASE WHEN regexp_full_match({column}, {lit(_ISO_RE)}) THEN "
        f"CASE WHEN regexp_full_match({column}, {lit(_ISO_OFFSET_RE)}) "
        f"THEN try_cast({column} AS TIMESTAMPTZ) "
        f"ELSE timezone({zone}, try_cast({column} AS TIMESTAMP)) END END"
    )
    if not mapping.date_format:
        return iso
    parsed = f"try_strptime({column}, {lit(mapping.date_format)})"
    if not re.search(r"%[zZ]", mapping.date_format):
        parsed = f"timezone({zone}, {parsed})"
    return f"coalesce({parsed}, {iso})"


def trimmed_sql(column: str) -> str:
    """``column`` without surrounding whitespace (NBSP included), empty -> NULL.

    ``trim(x, characters)`` is several times slower than a look at the first and last character,
    and almost no value needs trimming.
    """
    ws = lit(WHITESPACE)
    return (
        f"CASE WHEN {column} = '' THEN NULL "
        f"WHEN contains({ws}, left({column}, 1)) OR contains({ws}, right({column}, 1)) "
        f"THEN nullif(trim({column}, {ws}), '') ELSE {column} END"
    )


def validation_sql(mapping: Mapping) -> str:
    """One statement: ``crm_raw`` -> ``crm_parsed`` with typed fields and a reason for bad records."""
    trimmed = ",\n".join(f"{trimmed_sql(f'raw_{n}')} AS s_{n}" for n in FIELD_NAMES)
    expected_ts = f"{mapping.date_format} or ISO 8601" if mapping.date_format else _ISO_EXAMPLE
    dec = mapping.decimal
    number_re = r"[0-9]+(\.[0-9]+)?|\.[0-9]+" if dec == "." else r"[0-9]+(,[0-9]+)?|,[0-9]+"
    small_int_re = r"[0-9]{1,4}([.,]0+)?"
    channel_hint = "known: " + ", ".join(CHANNELS) + (
        " or an export value listed in [values.channel]" if mapping.channel_values else "")
    outcome_hint = "known: " + ", ".join(OUTCOMES) + (
        " or an export value listed in [values.outcome]" if mapping.outcome_values else "")

    def quoted(column: str) -> str:
        return f"'''' || left({column}, 80) || ''''"

    reasons = [
        "CASE WHEN s_case_id IS NULL THEN 'missing case_id' END",
        f"""CASE WHEN s_channel IS NULL THEN 'missing channel'
                 WHEN channel IS NULL
                 THEN 'unknown channel ' || {quoted('s_channel')} || {lit(f' ({channel_hint})')}
            END""",
        f"""CASE WHEN s_opened_at IS NULL THEN 'missing opened_at'
                 WHEN opened_at IS NULL THEN 'unparseable opened_at ' || {quoted('s_opened_at')}
                      || {lit(f' (expected {expected_ts})')}
            END""",
        f"""CASE WHEN s_closed_at IS NOT NULL AND closed_at IS NULL THEN 'unparseable closed_at '
                      || {quoted('s_closed_at')} || {lit(f' (expected {expected_ts})')}
                 WHEN closed_at < opened_at THEN 'closed_at ' || {quoted('s_closed_at')}
                      || ' is before opened_at ' || {quoted('s_opened_at')}
            END""",
        f"""CASE WHEN s_outcome IS NOT NULL AND outcome IS NULL
                 THEN 'unknown outcome ' || {quoted('s_outcome')} || {lit(f' ({outcome_hint})')} END""",
        f"""CASE WHEN s_handled_minutes IS NOT NULL AND handled_minutes IS NULL
                 THEN 'handled_minutes ' || {quoted('s_handled_minutes')}
                      || {lit(f' is not a non-negative number (decimal separator {dec!r})')} END""",
        f"""CASE WHEN s_csat IS NOT NULL AND (csat IS NULL OR csat NOT BETWEEN 1 AND 5)
                 THEN 'csat ' || {quoted('s_csat')} || ' is not an integer 1..5' END""",
        f"""CASE WHEN s_nps IS NOT NULL AND (nps IS NULL OR nps NOT BETWEEN 0 AND 10)
                 THEN 'nps ' || {quoted('s_nps')} || ' is not an integer 0..10' END""",
        f"""CASE WHEN s_conversation_id IS NOT NULL AND conversation_ref IS NULL THEN
                 CASE WHEN regexp_matches(s_conversation_id, '^[0-9.,]+[eE][+-]?[0-9]+$')
                      THEN 'conversation_id ' || {quoted('s_conversation_id')}
                           || ' is in scientific notation: a spreadsheet turned the id into a number and'
                           || ' lost its last digits (export the column as text)'
                      ELSE 'conversation_id ' || {quoted('s_conversation_id')}
                           || ' is not a tweet id (a positive 64-bit integer)' END
            END""",
    ]
    return f"""
        CREATE OR REPLACE TEMP TABLE crm_parsed AS
        WITH trimmed AS (
            SELECT record_no, line,
            {trimmed}
            FROM crm_raw
        ),
        typed AS (
            SELECT t.*,
                   t.s_case_id AS case_id,
                   channel_map.value AS channel,
                   outcome_map.value AS outcome,
                   {_timestamp_sql('t.s_opened_at', mapping)} AS opened_at,
                   {_timestamp_sql('t.s_closed_at', mapping)} AS closed_at,
                   t.s_customer_ref AS customer_ref,
                   nullif(ltrim(t.s_twitter_handle, '@'), '') AS twitter_handle,
                   CASE WHEN regexp_full_match(t.s_conversation_id, '[0-9]+(\\.0)?')
                        THEN nullif(try_cast(regexp_extract(t.s_conversation_id, '^[0-9]+') AS BIGINT), 0)
                   END AS conversation_ref,
                   t.s_agent AS agent,
                   t.s_team AS team,
                   t.s_category AS category,
                   CASE WHEN regexp_full_match(t.s_handled_minutes, {lit(number_re)})
                        THEN try_cast(replace(t.s_handled_minutes, ',', '.') AS DOUBLE)
                   END AS handled_minutes,
                   CASE WHEN regexp_full_match(t.s_csat, {lit(small_int_re)})
                        THEN try_cast(regexp_extract(t.s_csat, '^[0-9]+') AS INTEGER) END AS csat,
                   CASE WHEN regexp_full_match(t.s_nps, {lit(small_int_re)})
                        THEN try_cast(regexp_extract(t.s_nps, '^[0-9]+') AS INTEGER) END AS nps
            FROM trimmed t
            LEFT JOIN crm_value_map channel_map
                   ON channel_map.field = 'channel' AND channel_map.key = lower(t.s_channel)
            LEFT JOIN crm_value_map outcome_map
                   ON outcome_map.field = 'outcome' AND outcome_map.key = lower(t.s_outcome)
        )
        SELECT * EXCLUDE ({', '.join(f's_{n}' for n in FIELD_NAMES)}),
               nullif(concat_ws('; ', {', '.join(reasons)}), '') AS reason
        FROM typed
    """
