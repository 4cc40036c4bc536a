"""Two replicas started at once on an empty database (a deploy of two hosts, or gunicorn's
workers): both run the migrations. One must do them, the other wait and find nothing left to do,
and both must start. Processes, as replicas are (Alembic's command context is per process)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from storage.db import Database

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
# Each process waits for a start file, so that all of them begin the upgrade at the same moment.
UPGRADE = """
import sys, time
from pathlib import Path
from storage.db import Database
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
Database(sys.argv[1]).upgrade()
"""


@pytest.mark.parametrize("replicas", [2, 4])
def test_replicas_migrating_at_once_all_start_on_one_schema(database_url: str, replicas: int, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite: one process migrates the file (several processes need PostgreSQL)")
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", UPGRADE, database_url, str(go)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(replicas)]
    go.touch()
    outcomes = []
    for p in procs:
        try:
            out, _ = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("an upgrade hung (replicas migrating at once wait on each other)")
        outcomes.append((p.returncode, out[-600:]))
    assert [rc for rc, _ in outcomes] == [0] * replicas, outcomes
    db = Database(database_url)
    try:
        assert db.revision() == ScriptDirectory.from_config(db.alembic_config()).get_current_head()
    finally:
        db.dispose()
