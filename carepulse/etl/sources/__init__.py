"""One folder per source, each declaring its :class:`~carepulse.etl.resource.Resource` in ``__init__.py``.

Sources import nothing of the loader, the transforms or each other; :mod:`carepulse.etl.registry` lists them.
"""
