"""The public "Customer Support on Twitter" (TWCS) CSV corpus: reader in :mod:`.reader`."""

from carepulse.etl.resource import Resource
from carepulse.etl.sources.twcs.reader import STAGED_ALIASES, STAGED_COLUMNS, stage

RESOURCE = Resource(name="twcs", table="tweets", primary_key="tweet_id", write_mode="insert-new", stage=stage,
                    staged_columns=frozenset(STAGED_COLUMNS), staged_aliases=STAGED_ALIASES,
                    file_suffixes=(".csv", ".txt"))
