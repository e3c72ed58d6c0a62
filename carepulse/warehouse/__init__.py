"""The DuckDB warehouse: schema, the snapshot-publishing writer and the never-blocking readers.

Dependencies flow ``dashboard -> metrics -> warehouse <- etl``: this package knows nothing of
either side, it only owns the file, its schema and how connections to it are made.
"""

from carepulse.warehouse.store import SCHEMA_VERSION, Reader, Warehouse, apply_schema, settle

__all__ = ["SCHEMA_VERSION", "Reader", "Warehouse", "apply_schema", "settle"]
