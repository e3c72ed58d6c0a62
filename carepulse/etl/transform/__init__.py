"""Transforms over loaded rows: the thread rebuild (threads), its graph passes (graph) and the linking of
CRM cases to threads (crm_links). The loader calls them after every load; sources never do."""
