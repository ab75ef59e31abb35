"""The NumPy twins' building blocks. That each twin equals its original after a demo load is
tested beside the original (tests/derived/test_summary.py, tests/kpi/test_tables.py)."""

from __future__ import annotations

import numpy as np

from db.demo import twins


def test_newest_picks_the_latest_row_per_owner_and_the_later_row_on_ties() -> None:
    owner = np.array([0, 0, 2, 0, 2])
    at = np.array([5, 9, 1, 9, 0])
    assert twins.newest(owner, at, 4).tolist() == [3, -1, 2, -1]
    assert twins.newest(owner, at, 4, oldest=True).tolist() == [0, -1, 4, -1]
    assert twins.newest(owner[:0], at[:0], 2).tolist() == [-1, -1]


def test_grouped_sums_each_column_per_key() -> None:
    keys, sums = twins.grouped(np.array([7, 3, 7]), np.array([[1.0, 2.0], [4.0, 0.0],
                                                               [1.0, 5.0]]))
    assert dict(zip(keys.tolist(), sums.tolist(), strict=True)) == {7: [2, 7], 3: [4, 0]}
