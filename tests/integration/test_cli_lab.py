"""The CLI's router commands, as a real process, against the real FRR lab: the same service
path as the Slack buttons."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import Core
from bot.sessions.inventory import load_inventory
from bot.sessions.queries import get_session
from bot.core.settings import Settings
from tests.cli.test_cli import ROOT, run
from tests.factories import make_session

pytestmark = pytest.mark.lab


def test_cli_configure_admin_down_refresh_delete(clean_lab, tmp_path: Path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path}/cli-lab.db"
    core = Core.from_settings(Settings(PEERBOT_DATABASE_URL=url, PEERBOT_SECRET_KEY="cli-key"))
    load_inventory(core.db, ROOT / "tests" / "data" / "inventory.yml")
    spare = clean_lab.spares["v4_md5"]
    v = make_session(core, ip=spare.peer_ip, asn=str(clean_lab.peer.asn), name="CLI Peer", session_type="local",
                     exchange="No Exchange", md5=spare.md5, actor="cli:alice")
    env = {"PEERBOT_DATABASE_URL": url, "PEERBOT_SECRET_KEY": "cli-key", "LOGNAME": "alice",
           "PEERBOT_TEST_ROUTER_PASSWORD": clean_lab.password}
    # a second person at another shell, allowed to approve
    approver = {**env, "LOGNAME": "bob", "PEERBOT_CLI_ROLES": "operator,approver"}

    p = run(["sessions", "configure", str(v.id)], env)
    assert p.returncode == 0, p.stderr
    assert f"neighbor {spare.peer_ip} password ********" in p.stdout and spare.md5 not in p.stdout + p.stderr
    assert "Request #1 waits for approval" in p.stdout
    assert clean_lab.neighbor_json(spare.peer_ip) == {}  # nothing on the router yet
    refused = run(["changes", "approve", "1"], {**env, "PEERBOT_CLI_ROLES": "operator,approver"})
    assert refused.returncode == 1 and "another approver" in refused.stderr  # alice cannot approve her own
    p = run(["changes", "approve", "1"], approver)
    assert p.returncode == 0, p.stderr
    assert "Configured" in p.stdout and "done" in p.stdout
    clean_lab.wait_state(spare.peer_ip, "Established")

    # the policy lets Admin Down run at once (still a stored, audited request)
    p = run(["sessions", "admin-down", str(v.id)], {**env, "PEERBOT_APPROVAL_SKIP": "admin_down"})
    assert p.returncode == 0, p.stderr
    assert clean_lab.neighbor_json(spare.peer_ip).get("adminShutDown") is True

    p = run(["refresh", "edge1"], env)
    assert p.returncode == 0 and "edge1:" in p.stdout
    assert get_session(core.db, v.id).admin_status == "down"

    p = run(["sessions", "delete", str(v.id), "--yes"], env)
    assert p.returncode == 0 and "Request #3 waits" in p.stdout, p.stderr
    assert run(["changes", "approve", "3"], approver).returncode == 0
    assert clean_lab.neighbor_json(spare.peer_ip) == {}
    assert "0 session(s)" in run(["sessions", "list"], env).stdout
    audit = run(["audit", "--json"], env).stdout
    assert '"change.approved"' in audit and '"actor": "cli:bob"' in audit and spare.md5 not in audit

    bad = run(["sessions", "configure", "999"], env)
    assert bad.returncode == 1 and "No session #999" in bad.stderr
    core.db.dispose()
