"""`peerbot peeringdb sync`, `peerbot exchanges import` and the inventory's `peeringdb_ix`, as real
subprocesses against the local PeeringDB."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.db import Database
from storage.models import Exchange
from tests.cli.test_cli import run
from tests.harness.fake_peeringdb import FakePeeringDB


def _env(tmp_path: Path, fake_pdb: FakePeeringDB) -> dict[str, str]:
    return {"PEERBOT_DATABASE_URL": f"sqlite:///{tmp_path}/pdb.db", "PEERBOT_SECRET_KEY": "k",
            "PEERBOT_PEERINGDB_URL": fake_pdb.url, "PEERINGDB_API_KEY": "cli-secret-key"}


def test_sync_then_import_exchange(tmp_path: Path, fake_pdb: FakePeeringDB) -> None:
    env = _env(tmp_path, fake_pdb)
    p = run(["peeringdb", "sync"], env)
    assert p.returncode == 0, p.stderr
    assert "net       loaded 4" in p.stdout and "netixlan  loaded 4" in p.stdout
    assert fake_pdb.requests[0].headers["authorization"] == "Api-Key cli-secret-key"
    again = run(["peeringdb", "sync"], env)
    assert again.returncode == 0 and "net       updated 4" in again.stdout
    assert all("since" in r.query for r in fake_pdb.requests[7:])

    imp = run(["exchanges", "import", "--ix", "31"], env)
    assert imp.returncode == 0, imp.stderr
    assert imp.stdout.startswith("created exchange DE-CIX Frankfurt (PeeringDB ix 31): "
                                 "IPv4 80.81.192.0/21, IPv6 2001:7f8::/64")
    missing = run(["exchanges", "import", "--ix", "999"], env)
    assert missing.returncode == 1 and "not in the mirror: run `peerbot peeringdb sync`" in missing.stderr


def test_sync_failure_is_one_line_and_keeps_the_key_out(tmp_path: Path, fake_pdb: FakePeeringDB) -> None:
    env = _env(tmp_path, fake_pdb)
    fake_pdb.fail("org", 401)
    p = run(["peeringdb", "sync"], env)
    assert p.returncode == 1
    err = [line for line in p.stderr.splitlines() if line.startswith("peerbot:")]
    assert err == ["peerbot: PeeringDB org: HTTP 401 Unauthorized (check PEERINGDB_API_KEY) "
                   "(the mirror keeps what it had for the rest; run again later)"]
    assert "Traceback" not in p.stderr and "cli-secret-key" not in p.stderr + p.stdout


def test_inventory_exchange_from_peeringdb(tmp_path: Path, fake_pdb: FakePeeringDB) -> None:
    env = _env(tmp_path, fake_pdb)
    inv = tmp_path / "inv.yml"
    inv.write_text("exchanges:\n  - peeringdb_ix: 31\n")
    early = run(["inventory", "load", str(inv)], env)
    assert early.returncode == 2 and "peeringdb_ix 31" in early.stderr and "peerbot peeringdb sync" in early.stderr
    assert run(["peeringdb", "sync"], env).returncode == 0
    p = run(["inventory", "load", str(inv)], env)
    assert p.returncode == 0, p.stderr
    assert "+ exchange DE-CIX Frankfurt" in p.stdout
    db = Database(env["PEERBOT_DATABASE_URL"])
    with db.session() as s:
        ex = s.scalar(select(Exchange).where(Exchange.peeringdb_ix_id == 31))
        assert (ex.name, ex.lan_prefix_v4, ex.lan_prefix_v6, ex.peeringdb_managed) == \
            ("DE-CIX Frankfurt", "80.81.192.0/21", "2001:7f8::/64", True)
    db.dispose()
