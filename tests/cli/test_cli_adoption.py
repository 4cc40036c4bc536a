"""`peerbot routers discover` and `peerbot drift …` as real processes: names checked, refusals
and failures as one line with an exit code (the lab test drives them against a real router)."""
from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import ROOT, run


def env_for(tmp_path: Path) -> dict[str, str]:
    env = {"PEERBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "PEERBOT_SECRET_KEY": "cli-key", "LOGNAME": "alice",
           "PEERBOT_ROUTER_TIMEOUT": "2", "PEERBOT_POLL_TIMEOUT": "4", "PEERBOT_POLL_PROCESSES": "0"}
    assert run(["inventory", "load", str(ROOT / "tests" / "data" / "inventory.yml")], env).returncode == 0
    return env


def test_discover_names_and_unreachable_routers(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    bad = run(["routers", "discover", "nosuch; reload"], env)
    assert bad.returncode == 2 and "No router named 'nosuch; reload'" in bad.stderr
    p = run(["routers", "discover", "edge2", "--json"], env)
    assert p.returncode == 1
    [edge2] = json.loads(p.stdout)
    assert not edge2["ok"] and "PEERBOT_TEST_EDGE2_PASSWORD is not set" in edge2["error"]
    p = run(["routers", "discover", "edge2", "--json"], {**env, "PEERBOT_TEST_EDGE2_PASSWORD": "pw-123-abc"})
    [edge2] = json.loads(p.stdout)  # port 1: nothing listens
    assert p.returncode == 1 and edge2["error"].startswith("cannot reach 127.0.0.1:1") and "pw-123-abc" not in p.stdout


def test_drift_commands(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    p = run(["drift", "check", "edge2"], env)
    assert p.returncode == 1 and p.stdout.startswith("edge2: ")
    p = run(["drift", "adopt", "999"], env)
    assert p.returncode == 1 and "No drift item #999" in p.stderr
    viewer = run(["drift", "ignore", "1"], {**env, "PEERBOT_CLI_ROLES": "viewer"})
    assert viewer.returncode in (1, 2) and viewer.stderr.startswith("peerbot: ")
