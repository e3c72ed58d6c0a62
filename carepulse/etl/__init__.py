"""Sources -> warehouse: declared resources, a shared loader, a transform layer. Never imports ``metrics``.

Layout::

    resource.py       the interface: Resource(name, table, primary_key, write_mode, stage)
    registry.py       the one place sources are registered (RESOURCES, looked up by name)
    loader.py         the shared loader: one transaction, dedupe, quarantine, run log (ingest_tweets, ingest_crm)
    sources/twcs/     the TWCS corpus CSV               -> tweets     (insert-new)
    sources/jsonl/    API v2 pages as JSONL (twarc2)    -> tweets     (insert-new)
    sources/crm/      CRM case exports CSV/XLSX/Parquet -> crm_cases  (merge; own pipeline, see its docstring)
    transform/        after the rows are in: threads.py (thread rebuild), graph.py (reply-graph passes on
                      numpy), crm_links.py (case -> thread link, after tweet and CRM loads)
    twitter_api/      the live pull: client.py, raw_writer.py, puller.py; writes JSONL, loads it as ``jsonl``
    watch.py          the resident loader: every file renamed into a folder, one load each (``ingest --watch``)
    handover.py       ``ingest FILE`` hands its file to a running resident loader and waits for its report
    staging.py runs.py columns.py csv_recovery.py   shared by the sources and the loader
    mappings/         example CRM mapping files

Adding a source: create ``sources/<name>/`` with a module whose ``stage(con, path, run_id) -> int`` puts
each record of one file into ``stg_tweets`` or ``stg_quarantine`` and returns the records read
(:class:`~carepulse.etl.resource.Stage`), declare ``RESOURCE = Resource(...)`` in the folder's
``__init__.py``, and add it to the tuple in :mod:`carepulse.etl.registry`; ``ingest_tweets(warehouse,
"<name>", ...)`` then stages, dedupes, threads and logs it like the others. A source imports only
``core``, ``resource``, ``runs``, ``staging`` and ``csv_recovery``, never the loader or another source.
"""
