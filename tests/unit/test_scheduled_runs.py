"""Background jobs once per interval across processes (bot/core/runs.py, scheduler wrappers),
and a forked worker's own poll-claim identity."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from storage.db import Database
from bot.core import Core
from bot.core.runs import claim_run
from bot.serve.scheduler import SPACING, once_across_processes
from tests.harness.bot import settings_for
from tests.harness.fake_slack import FakeSlack


def test_a_run_is_claimed_once_an_interval(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    try:
        t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        assert claim_run(db, "irr-refresh", 3600, owner="a", now=t0)  # the first run ever: inserted
        assert not claim_run(db, "irr-refresh", 3600, owner="b", now=t0)  # the other process, same tick
        assert not claim_run(db, "irr-refresh", 3600, owner="b", now=t0 + timedelta(minutes=59))
        assert claim_run(db, "drift-check", 3600, owner="b", now=t0)  # jobs are counted apart
        assert claim_run(db, "irr-refresh", 3600, owner="b", now=t0 + timedelta(hours=1))
        assert not claim_run(db, "irr-refresh", 3600, owner="a", now=t0 + timedelta(hours=1, seconds=1))
    finally:
        db.dispose()


def test_two_processes_scheduling_a_job_run_it_once(database_url: str, slack: FakeSlack, tmp_path) -> None:  # noqa: ANN001
    # two cores on one database stand for two processes (each its own engine and lock connection)
    one = Core.from_settings(settings_for(database_url, slack, tmp_path))
    two = Core.from_settings(settings_for(database_url, slack, tmp_path), upgrade=False)
    ran: list[str] = []
    try:
        jobs = [once_across_processes(c, "peeringdb-sync", 24 * 3600, lambda n=n: ran.append(n), lock=-14)
                for n, c in (("one", one), ("two", two))]
        for _ in range(3):  # ticks of both schedulers within the interval
            for job in jobs:
                job()
        assert ran == ["one"]
        assert SPACING < 1  # a tick a little early (another process started later) still runs
    finally:
        one.db.dispose()
        two.db.dispose()


def test_a_run_still_going_in_another_process_is_not_started_again(database_url: str, slack: FakeSlack,
                                                                   tmp_path) -> None:  # noqa: ANN001
    one = Core.from_settings(settings_for(database_url, slack, tmp_path))
    two = Core.from_settings(settings_for(database_url, slack, tmp_path), upgrade=False)
    ran: list[str] = []
    try:
        # (a run outlasting the spacing: the claim lets the next tick in, the lock does not)
        assert one.locks.try_router(-13, timeout=0)
        once_across_processes(two, "irr-refresh", 0, lambda: ran.append("two"), lock=-13)()
        if two.db.engine.dialect.name == "postgresql":  # across processes (SQLite: one process only)
            assert ran == []
        one.locks.release_router(-13)
        once_across_processes(two, "irr-refresh", 0, lambda: ran.append("two"), lock=-13)()
        assert ran[-1:] == ["two"]
    finally:
        one.db.dispose()
        two.db.dispose()


def test_a_forked_worker_claims_polls_as_itself() -> None:
    from bot.polling import claims

    parent = claims.PROCESS_ID
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write its identity and leave at once
        os.write(write, claims.PROCESS_ID.encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 512).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child and child != parent and f":{pid}:" in child
    assert claims.PROCESS_ID == parent
