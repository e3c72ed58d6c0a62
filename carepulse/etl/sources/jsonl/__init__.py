"""Twitter API v2 pages as twarc2 writes them (JSONL), also what ``carepulse pull`` writes: :mod:`.reader`."""

from carepulse.etl.resource import Resource
from carepulse.etl.sources.jsonl.reader import stage

RESOURCE = Resource(name="jsonl", table="tweets", primary_key="tweet_id", write_mode="insert-new", stage=stage,
                    file_suffixes=(".jsonl", ".ndjson", ".json"))
