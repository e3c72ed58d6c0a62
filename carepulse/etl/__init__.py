"""Sources -> warehouse. One module per source with the same small interface; a shared loader.

``twcs_csv`` (the public TWCS corpus layout), ``twitter_jsonl`` (API v2 pages as twarc2 writes them),
``crm_files`` (CRM case exports) and ``twitter_api`` (live pull, writes JSONL then loads it).
This package never imports ``metrics``.
"""
