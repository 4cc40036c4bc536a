"""The daily PeeringDB sync job (PEERBOT_PEERINGDB_SYNC_HOURS)."""
from __future__ import annotations

from pathlib import Path

from bot.core import Core
from bot.peeringdb.search import search_networks
from bot.serve.scheduler import PEERINGDB_JOB, start_peeringdb_sync
from tests.harness.bot import settings_for
from tests.harness.fake_peeringdb import FakePeeringDB
from tests.harness.fake_slack import FakeSlack


def test_sync_job_is_scheduled_and_syncs(sqlite_url: str, slack: FakeSlack, tmp_path: Path,
                                         fake_pdb: FakePeeringDB) -> None:
    core = Core.from_settings(settings_for(sqlite_url, slack, tmp_path, PEERBOT_PEERINGDB_URL=fake_pdb.url,
                                           PEERBOT_PEERINGDB_SYNC_HOURS="24"))
    assert core.settings.peeringdb_sync_hours == 24
    assert start_peeringdb_sync(core, 0) is None
    sched = start_peeringdb_sync(core, core.settings.peeringdb_sync_hours)
    try:
        job = sched.get_job(PEERINGDB_JOB)
        assert job.trigger.interval.total_seconds() == 24 * 3600
        job.func()  # what the scheduler runs, now rather than in a minute
    finally:
        sched.shutdown(wait=False)
    assert [h.name for h in search_networks(core.db, "AS13335")] == ["Cloudflare"]
    core.db.dispose()
