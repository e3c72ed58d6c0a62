"""The numpy graph passes on hand-drawn reply forests (answers worked out by hand)."""

from __future__ import annotations

import numpy as np

from carepulse.etl.transform import graph


def _arrays(rows: list[tuple[int, int | None, int, bool]]) -> tuple[np.ndarray, ...]:
    """(tweet_id, reply_to or None, time, is_brand) rows as the columns :func:`graph.link` takes."""
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    reply = np.array([r[1] or 0 for r in rows], dtype=np.int64)
    has = np.array([r[1] is not None for r in rows])
    time = np.array([r[2] for r in rows], dtype=np.int64)
    brand = np.array([r[3] for r in rows])
    return ids, reply, has, time, brand


def test_parents_roots_and_first_brand_replies() -> None:
    # 10 <- 11 (brand) <- 12 <- 13 (brand); 10 <- 14 (brand, later); 20 replies to a missing 99;
    # 21 (brand) replies to 20; 30 replies to itself; 31 (brand) replies to 11 (brand: not an answer).
    rows = [
        (13, 12, 400, True), (10, None, 100, False), (11, 10, 200, True), (12, 11, 300, False),
        (14, 10, 250, True), (20, 99, 500, False), (21, 20, 560, True), (30, 30, 700, False),
        (31, 11, 800, True),
    ]
    ids, reply, has, time, brand = _arrays(rows)
    links = graph.link(ids, reply, has, time, brand)
    parent_ids = [int(ids[p]) if p >= 0 else None for p in links.parent]
    root_ids = [int(ids[r]) for r in links.root]
    first = [None if f == graph.NO_TIME else int(f) for f in links.first_reply_us]
    assert parent_ids == [12, None, 10, 11, 10, None, 20, None, 11]
    assert root_ids == [10, 10, 10, 10, 10, 20, 20, 30, 10]
    # 10 is answered first by 11 at 200 (14 at 250 is later); 12 by 13; 20 by 21; 11 is a brand
    # tweet, so 31 answers nobody.
    assert first == [None, 200, None, 400, None, 560, None, None, None]
    assert links.cycles_broken == 0


def test_a_reply_cycle_breaks_at_its_earliest_tweet_and_its_branches_follow() -> None:
    # 1 -> 2 -> 3 -> 1 is a cycle; 2 is earliest by time, so 2 becomes the root; 4 hangs on 3.
    rows = [(1, 3, 300, False), (2, 1, 100, False), (3, 2, 200, True), (4, 3, 400, False)]
    ids, reply, has, time, brand = _arrays(rows)
    links = graph.link(ids, reply, has, time, brand)
    assert [int(ids[r]) for r in links.root] == [2, 2, 2, 2]
    assert int(links.parent[1]) == -1
    assert links.cycles_broken == 1


def test_time_ties_break_by_id_whatever_the_input_order() -> None:
    ids = np.array([30, 10, 20, 5], dtype=np.int64)
    time = np.array([100, 100, 50, 100], dtype=np.int64)
    # order by (time, id): 20@50, 5@100, 10@100, 30@100
    assert graph.time_rank(time, ids).tolist() == [3, 2, 0, 1]
    links = graph.link(ids, np.zeros(4, dtype=np.int64), np.zeros(4, dtype=bool), time, np.zeros(4, dtype=bool))
    assert links.rank.tolist() == [3, 2, 0, 1]


def test_the_first_reply_is_the_earliest_then_lowest_id_brand_answer() -> None:
    # 1 is answered by 3 and 2 in the same second (2 has the lower id), and later by 4.
    rows = [(1, None, 100, False), (3, 1, 160, True), (2, 1, 160, True), (4, 1, 120, False), (5, 1, 900, True)]
    ids, reply, has, time, brand = _arrays(rows)
    links = graph.link(ids, reply, has, time, brand)
    assert int(ids[links.first_reply[0]]) == 2 and int(links.first_reply_us[0]) == 160
    assert links.first_reply[1:].tolist() == [-1, -1, -1, -1]


def test_deep_chains_need_only_logarithmic_passes() -> None:
    n = 100_000
    ids = np.arange(1, n + 1, dtype=np.int64)
    reply = ids - 1
    has = reply > 0
    links = graph.link(ids, reply, has, ids.copy(), np.zeros(n, dtype=bool))
    assert (links.root == 0).all()
    assert links.parent[0] == -1 and (links.parent[1:] == np.arange(n - 1)).all()
