"""Live pull from the Twitter/X API v2 with tweepy: raw pages as JSONL, loaded by the shared loader.

Modules: :mod:`.client` (the tweepy client, retries, rate limits, errors), :mod:`.raw_writer` (pages as
twarc2-style JSONL) and :mod:`.puller` (the pull cycle and its schedule). This is not a declared resource:
its pages are loaded by the ``jsonl`` resource through :func:`carepulse.etl.loader.ingest_tweets`, which is
why it sits beside ``sources/`` (the loader imports the sources; the puller imports the loader).

One pull cycle does, for every brand account given:

1. its **mentions** (``get_users_mentions``) and its **own tweets** including replies
   (``get_users_tweets``), each from the newest id kept in ``pull_state`` (sent as ``since_id``);
2. the **rest of every conversation** those tweets touch (``search_recent_tweets``, or
   ``search_all_tweets`` when ``twitter_full_archive`` is set), several ``conversation_id:``
   terms joined with ``OR`` per query;
3. **parents still missing** (``get_tweets``, 100 ids a request), skipping ids already loaded.

Every page is written as received, in the twarc2 layout ``carepulse ingest jsonl`` reads (the
page plus ``__twarc`` with the request URL and the retrieval time; never the token), to
``<raw_dir>/<account>/<endpoint>-<stamp>.jsonl``. The cycle's files are then loaded with
:func:`etl.loader.ingest_tweets` (``"jsonl"``), and the advanced cursors are written by a hook
inside that same transaction. So the warehouse after a pull is exactly the warehouse that
``ingest jsonl`` of the same files gives, plus ``pull_state``.

**Crash safety.** Cursors advance only when the whole cycle completed (every page of every
endpoint, every conversation, every parent) and only in the load's transaction. A crash or a stop
at any point therefore leaves either the old cursors (the rerun fetches the same range again and
the loader dedupes what was already loaded) or the new cursors together with every tweet they
cover. Thread figures do not depend on how tweets were split over loads (``tests/etl/test_properties``),
so a rerun ends with the same tweets and threads as one clean run.

**Faults.** tweepy's own ``wait_on_rate_limit`` is off (it retries at once when the reset header is
missing and recurses until the stack overflows). Here a 429 waits until ``x-rate-limit-reset``
(shown as a bar on a terminal, a log line otherwise), or backs off exponentially when the header
is missing; 5xx answers and connection errors back off exponentially up to a cap; 401 and 403
become one clear :class:`~carepulse.core.errors.SourceError`. ``sleep`` and ``clock`` are injectable,
so the tests run without waiting.
"""
