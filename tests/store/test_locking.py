"""The repo lock's primitive (store/locking.py): one holder at a time, freed on close."""

from __future__ import annotations

from oppcli.store import locking


def test_one_holder_at_a_time_and_free_once_closed(tmp_path):
    path = tmp_path / "opp.lock"
    with open(path, "a+") as first, open(path, "a+") as second:
        assert locking.try_lock(first)
        assert not locking.try_lock(second)  # another open file: refused, no wait
        first.close()
        assert locking.try_lock(second)
