"""GroupStore: the readings of polls that finish together are stored in shared transactions,
each poll gets its own result, and one bad reading fails only its own router."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.polling.poller import GroupStore, PollResult, Reading


def reading(i: int) -> Reading:
    return Reading(i, f"r{i}", {})


def test_concurrent_polls_share_transactions_and_each_gets_its_own_result() -> None:
    batches: list[list[int]] = []
    first_batch_started = threading.Event()
    release_first = threading.Event()

    def store_batch(readings: list[Reading]) -> list[PollResult | None]:
        batches.append([r.router_id for r in readings])
        if len(batches) == 1:  # hold the first store while the other polls queue up behind it
            first_batch_started.set()
            release_first.wait(5)
        return [PollResult(r.router_id, r.name, True, f"stored {r.router_id}") for r in readings]

    group = GroupStore(store_batch, max_batch=50)
    with ThreadPoolExecutor(40) as pool:
        first = pool.submit(group.store, reading(0))
        assert first_batch_started.wait(5)
        rest = [pool.submit(group.store, reading(i)) for i in range(1, 40)]
        release_first.set()
        results = [first.result(5)] + [f.result(5) for f in rest]
    assert [r.message for r in results] == [f"stored {i}" for i in range(40)]
    assert sorted(i for b in batches for i in b) == list(range(40))  # each stored once
    assert batches[0] == [0] and len(batches) < 40  # the 39 that waited went in shared batches


def test_a_batch_that_fails_is_stored_again_one_by_one() -> None:
    calls: list[list[int]] = []
    gate = threading.Event()

    def store_batch(readings: list[Reading]) -> list[PollResult | None]:
        ids = [r.router_id for r in readings]
        calls.append(ids)
        if ids == [0]:
            gate.wait(5)
        if 3 in ids:
            raise ValueError("router 3's reading does not fit the database")
        return [PollResult(i, f"r{i}", True, "ok") for i in ids]

    group = GroupStore(store_batch)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(group.store, reading(0))
        while not calls:
            threading.Event().wait(0.01)
        others = {i: pool.submit(group.store, reading(i)) for i in range(1, 6)}
        while len(group._queue) < 5:  # all queued behind the first store
            threading.Event().wait(0.01)
        gate.set()
        assert first.result(5).ok
        for i, f in others.items():
            if i == 3:
                with pytest.raises(ValueError):
                    f.result(5)
            else:
                assert f.result(5).ok
    assert [3] in calls and any(len(c) > 1 and 3 in c for c in calls)  # tried together, then alone


def test_a_lone_poll_is_stored_at_once_by_its_own_thread() -> None:
    threads: list[str] = []

    def store_batch(readings: list[Reading]) -> list[PollResult | None]:
        threads.append(threading.current_thread().name)
        return [None]  # the router was deleted meanwhile

    assert GroupStore(store_batch).store(reading(7)) is None
    assert threads == [threading.current_thread().name]
