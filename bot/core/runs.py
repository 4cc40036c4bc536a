"""Once per interval across processes: a scheduled background job (IRR re-import, PeeringDB sync,
drift check, history pruning) runs in a process only after it claimed the run in the database.

Every process (`peerbot serve --processes N`, or replicas on other hosts) schedules every job;
the claim is a conditional UPDATE of the job's `scheduled_run` row that succeeds only when the
last run started `spacing` seconds ago or longer, so one of the processes runs it and the others
skip that tick. The first run ever inserts the row (a second inserter gets an IntegrityError and
skips). A process that dies mid-run does not hold anything: the next interval runs again.
"""
from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import ScheduledRun


def claim_run(db: Database, job: str, spacing: float, *, owner: str | None = None,
              now: datetime | None = None) -> bool:
    """True when this process may run `job` now: no process started it in the last `spacing` s."""
    now = now or datetime.now(timezone.utc)
    owner = (owner or f"{socket.gethostname()[:80]}:{os.getpid()}")[:128]
    with db.session() as s:
        took = s.execute(update(ScheduledRun)
                         .where(ScheduledRun.job == job, ScheduledRun.last_run_at <= now - timedelta(seconds=spacing))
                         .values(last_run_at=now, run_by=owner)
                         .execution_options(synchronize_session=False)).rowcount == 1
        if took:
            return True
        if s.get(ScheduledRun, job) is not None:
            return False  # run by another process within the interval
    try:
        with db.session() as s:
            s.add(ScheduledRun(job=job, last_run_at=now, run_by=owner))
        return True
    except IntegrityError:
        return False  # another process inserted it first: it runs this one
