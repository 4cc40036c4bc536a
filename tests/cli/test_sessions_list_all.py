"""`peerbot sessions list` prints every session it counts: streamed in batches, none dropped
or repeated, more rows than one batch (issue 12: it used to stop at 10,000 silently)."""
from __future__ import annotations

from sqlalchemy import select

from bot.sessions.queries import BATCH
from storage.db import Database
from storage.models import Session
from tests.cli.test_cli import run
from tests.harness.bulk import load_sessions

ROWS = BATCH * 2 + 37  # three batches, the last one partial


def _ids(stdout: str) -> list[int]:
    return [int(line.split()[0]) for line in stdout.splitlines()[1:-1]]


def test_every_row_is_printed_across_batches(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    load_sessions(db, ROWS, routers=7, exchanges=3)
    with db.session() as s:
        expected = set(s.scalars(select(Session.id)))
        on_edge_003 = len(s.scalars(select(Session.id).join(Session.router).where(Session.router.has(name="edge-003"))).all())
    db.dispose()
    env = {"PEERBOT_DATABASE_URL": database_url, "PEERBOT_SECRET_KEY": "k"}
    p = run(["sessions", "list"], env, timeout=120)
    assert p.returncode == 0, p.stderr
    ids = _ids(p.stdout)
    assert len(ids) == ROWS == len(set(ids)) and set(ids) == expected
    assert p.stdout.splitlines()[0].split()[:2] == ["ID", "PEER"]
    assert p.stdout.rstrip().endswith(f"{ROWS} session(s)")
    filtered = run(["sessions", "list", "router:edge-003"], env, timeout=120)
    assert len(_ids(filtered.stdout)) == on_edge_003 > 0
    assert filtered.stdout.rstrip().endswith(f"{on_edge_003} session(s)")
