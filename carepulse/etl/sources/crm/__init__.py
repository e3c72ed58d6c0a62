"""CRM case exports (CSV, XLSX, Parquet) -> ``crm_cases``; the pipeline is in :mod:`.files`.

Layout: :mod:`.files` (pre-flight and the per-file pipeline), the readers :mod:`.read_csv`, :mod:`.read_xlsx`
(behind :mod:`.xlsx_guard`) and :mod:`.read_parquet`, :mod:`.validate` (the validation SQL), :mod:`.apply`
(dedupe, merge, accounting), :mod:`.mapping` (the ``--mapping`` file); the case-to-thread link is a
transform (:mod:`carepulse.etl.transform.crm_links`).

CRM shares the loader's transaction, run ids, run log and totals (:func:`carepulse.etl.loader.ingest_crm`)
but not its staging: it has no ``stage`` because its write mode is ``merge`` (a changed case replaces
the stored one, counted as loaded and updated), driven by a per-command mapping, while the tweet
loader's ``stg_tweets`` -> dedupe -> thread rebuild path only inserts new keys, so routing cases
through it would change both what is written and how records are counted.
"""

from carepulse.etl.resource import Resource

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")

RESOURCE = Resource(name="crm", table="crm_cases", primary_key="case_id", write_mode="merge", stage=None,
                    file_suffixes=(*CSV_SUFFIXES, *XLSX_SUFFIXES, *PARQUET_SUFFIXES))
