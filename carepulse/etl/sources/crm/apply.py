"""Dedupe and apply validated CRM records (``merge``: a changed case replaces the stored one) and count them."""

from __future__ import annotations

import duckdb

from carepulse.etl.runs import FileReport
from carepulse.etl.sources.crm.common import SOURCE, CrmFile, lit
from carepulse.warehouse.delta import delete, target

#: Stored case columns that make up a case's content (the link columns are derived, not content).
CONTENT_COLUMNS: tuple[str, ...] = (
    "channel", "opened_at", "closed_at", "outcome", "customer_ref", "twitter_handle",
    "conversation_ref", "agent", "team", "category", "handled_minutes", "csat", "nps",
)


def _same_content(left: str, right: str) -> str:
    return " AND ".join(f"{left}.{c} IS NOT DISTINCT FROM {right}.{c}" for c in CONTENT_COLUMNS)


def status_sql() -> str:
    """Status of every valid record: new, updated, duplicate (in the file or of the stored case) or
    conflict. Relies on ``case_id`` being unique in ``crm_cases``, which only this module writes."""
    return f"""
        CREATE OR REPLACE TEMP TABLE crm_status AS
        WITH valid AS (
            SELECT *, row_number() OVER (PARTITION BY case_id ORDER BY record_no) AS occurrence
            FROM crm_parsed WHERE reason IS NULL
        ),
        firsts AS (SELECT * FROM valid WHERE occurrence = 1)
        SELECT v.record_no, f.record_no AS first_record_no, f.line AS first_line,
               CASE
                   WHEN v.occurrence > 1 AND {_same_content('v', 'f')} THEN 'duplicate'
                   WHEN v.occurrence > 1 THEN 'conflict'
                   WHEN c.case_id IS NULL THEN 'new'
                   WHEN {_same_content('c', 'v')} THEN 'duplicate'
                   ELSE 'updated'
               END AS status
        FROM valid v
        JOIN firsts f ON f.case_id = v.case_id
        LEFT JOIN crm_cases c ON c.case_id = v.case_id AND v.occurrence = 1
    """


def apply(con: duckdb.DuckDBPyConnection, source: CrmFile, run_id: int) -> None:
    """Write quarantine rows, replace updated cases and insert new ones."""
    raw_json = "json_object(" + ", ".join(
        f"{lit(source.header_of(n))}, r.raw_{n}" for n in source.fields
    ) + ")::VARCHAR"
    where = "line " if source.format != "parquet" else "record "
    file_lit = lit(str(source.path))
    con.execute(f"""
        INSERT INTO {target(con, "quarantine")} (run_id, source, file, line, record_no, reason, raw)
        SELECT {run_id}, {lit(SOURCE)}, {file_lit}, q.line, q.record_no, q.reason, q.raw
        FROM (
            SELECT p.line, p.record_no, p.reason, {raw_json} AS raw
            FROM crm_parsed p JOIN crm_raw r USING (record_no)
            WHERE p.reason IS NOT NULL
            UNION ALL
            SELECT p.line, p.record_no,
                   'conflicting record: case_id ''' || p.case_id || ''' already appears at {where}'
                   || coalesce(s.first_line, s.first_record_no) || ' of this file with different content'
                   || ' (the first one is kept)',
                   {raw_json}
            FROM crm_status s JOIN crm_parsed p USING (record_no) JOIN crm_raw r USING (record_no)
            WHERE s.status = 'conflict'
            UNION ALL
            SELECT line, record_no, reason, raw FROM crm_rejects
        ) q
        ORDER BY q.record_no
    """)
    updated = "SELECT p.case_id FROM crm_status s JOIN crm_parsed p USING (record_no) WHERE s.status = 'updated'"
    delete(con, "crm_cases", f"case_id IN ({updated})")
    stored = ", ".join(("case_id", *CONTENT_COLUMNS))
    con.execute(f"""
        INSERT INTO {target(con, "crm_cases")} ({stored}, run_id, record_no)
        SELECT {stored}, {run_id}, p.record_no
        FROM crm_status s JOIN crm_parsed p USING (record_no)
        WHERE s.status IN ('new', 'updated')
        ORDER BY p.record_no
    """)


def fill_report(con: duckdb.DuckDBPyConnection, report: FileReport) -> None:
    row = con.execute("""
        SELECT (SELECT count(*) FROM crm_raw) + (SELECT count(*) FROM crm_rejects),
               (SELECT count(*) FROM crm_status WHERE status IN ('new', 'updated')),
               (SELECT count(*) FROM crm_status WHERE status = 'updated'),
               (SELECT count(*) FROM crm_status WHERE status = 'duplicate'),
               (SELECT count(*) FROM crm_parsed WHERE reason IS NOT NULL)
               + (SELECT count(*) FROM crm_status WHERE status = 'conflict')
               + (SELECT count(*) FROM crm_rejects)
    """).fetchone()
    assert row is not None
    report.records_read, report.loaded, report.updated, report.duplicate, report.quarantined = (
        int(v) for v in row
    )
