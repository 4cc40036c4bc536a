"""`peerbot routers list`, `exchanges list`, `sessions show`, `sessions add` as a real subprocess."""
from __future__ import annotations

import getpass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.core.settings import Settings
from storage.models import Session
from tests.cli.test_cli import ROOT, run

KEY = "s3cret-Md5-key"
ADD = ["sessions", "add", "--type", "public", "--exchange", "example-ix", "--router", "edge1", "--local-asn", "64500",
       "--peer-asn", "AS65601", "--peer-name", "Alpha Networks", "--peer-ip", "192.0.2.50"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"PEERBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cat.db", "PEERBOT_SECRET_KEY": "k"}
    loaded = run(["inventory", "load", str(ROOT / "tests" / "data" / "inventory.yml")], env)
    assert loaded.returncode == 0, loaded.stderr
    return env


def _rows(env: dict[str, str]) -> list[Session]:
    core = Core.from_settings(Settings(PEERBOT_DATABASE_URL=env["PEERBOT_DATABASE_URL"], PEERBOT_SECRET_KEY="k"))
    try:
        with core.db.session() as s:
            return list(s.scalars(select(Session)))
    finally:
        core.db.dispose()


def test_routers_and_exchanges_list(env: dict[str, str]) -> None:
    routers = run(["routers", "list"], env)
    assert routers.returncode == 0, routers.stderr
    lines = routers.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAME", "PLATFORM", "HOST"]
    edge1 = next(line for line in lines if line.startswith("edge1"))
    assert "frr" in edge1 and "127.0.0.1:2222" in edge1 and "AS64500" in edge1 and "IX-PEERS, TRANSIT" in edge1
    assert "never" in edge1 and "2 router(s)" in routers.stdout
    exchanges = run(["exchanges", "list"], env)
    assert exchanges.returncode == 0, exchanges.stderr
    example = next(line for line in exchanges.stdout.splitlines() if line.startswith("EXAMPLE-IX"))
    assert "9999" in example and "192.0.2.0/24" in example and "2001:db8::/32" in example
    assert "No Exchange" in exchanges.stdout and "3 exchange(s)" in exchanges.stdout


def test_sessions_add_then_show(env: dict[str, str]) -> None:
    added = run([*ADD, "--peer-group", "ix-peers", "--as-set", "ripe::as-alpha", "--md5-env", "PEER_KEY",
                 "--notes", "ticket NET-7"], {**env, "PEER_KEY": KEY})
    assert added.returncode == 0, added.stderr
    assert "created session #1" in added.stdout and "peerbot sessions configure 1" in added.stdout
    assert "reserved ASN" in added.stderr  # the wizard's ASN warning, not an error
    assert KEY not in added.stdout + added.stderr
    [row] = _rows(env)
    assert row.md5_encrypted and KEY not in row.md5_encrypted and row.created_by == f"cli:{getpass.getuser()}"
    shown = run(["sessions", "show", "1"], env)
    assert shown.returncode == 0, shown.stderr
    fields = dict(line.split(":", 1) for line in shown.stdout.splitlines())
    fields = {k: v.strip() for k, v in fields.items()}
    assert fields["State"] == "Not configured" and fields["Exchange"] == "EXAMPLE-IX"
    assert fields["Router"] == "edge1 (frr)" and fields["Peer group"] == "IX-PEERS" and fields["Local ASN"] == "AS64500"
    assert fields["Peer"] == "Alpha Networks" and fields["Peer ASN"] == "AS65601"
    assert fields["Peer IP"] == "192.0.2.50 (IPv4)" and fields["AS-SET"] == "AS-ALPHA"
    assert fields["MD5"] == "set" and fields["Notes"] == "ticket NET-7" and fields["Last error"] == "-"
    assert fields["Created"].endswith(f"by cli:{getpass.getuser()}")
    assert KEY not in shown.stdout
    by_ip = run(["sessions", "show", "192.0.2.50"], env)
    assert by_ip.returncode == 0 and by_ip.stdout.splitlines()[0] == "Session:            #1"
    missing = run(["sessions", "show", "42"], env)
    assert missing.returncode == 1 and "No session #42" in missing.stderr


def test_sessions_add_reports_every_bad_field_and_creates_nothing(env: dict[str, str]) -> None:
    p = run(["sessions", "add", "--type", "public", "--exchange", "OTHER-IX", "--router", "edge1",
             "--local-asn", "64999", "--peer-asn", "AS99999999999", "--peer-name", "Bad;Name",
             "--peer-ip", "192.0.2.50", "--as-set", "AS-\u212aELVIN", "--max-prefixes-v4", "lots",
             "--notes", "line\u2028break"], env)
    assert p.returncode == 2, p.stderr
    errors = dict(line.removeprefix("peerbot: ").split(": ", 1) for line in p.stderr.strip().splitlines())
    assert set(errors) == {"--local-asn", "--peer-asn", "--peer-name", "--peer-ip", "--as-set",
                           "--max-prefixes-v4", "--notes"}, p.stderr
    assert "not configured on edge1" in errors["--local-asn"]
    assert "not inside OTHER-IX" in errors["--peer-ip"]  # the wizard's LAN check
    assert "Traceback" not in p.stderr and _rows(env) == []


def test_sessions_add_unknown_names_and_duplicate_ip(env: dict[str, str]) -> None:
    p = run([*ADD[:5], "nowhere-ix", "--router", "edge9", *ADD[8:]], env)
    assert p.returncode == 2
    assert "--exchange: no exchange named 'nowhere-ix'" in p.stderr and "EXAMPLE-IX" in p.stderr
    assert "--router: no router named 'edge9'" in p.stderr
    assert run(ADD, env).returncode == 0
    again = run(ADD, env)
    assert again.returncode == 2 and "--peer-ip: edge1 already has a session with 192.0.2.50 (#1)" in again.stderr
    local = run(["sessions", "add", "--type", "local", "--router", "edge2", "--local-asn", "64511", "--peer-asn",
                 "65010", "--peer-name", "Lab", "--peer-ip", "203.0.113.9"], env)
    assert local.returncode == 0, local.stderr  # no --exchange: "No Exchange"
    assert "(No Exchange)" in local.stdout and len(_rows(env)) == 2


def test_md5_never_comes_from_an_argument(env: dict[str, str]) -> None:
    p = run([*ADD, "--md5", KEY], env)
    assert p.returncode == 2 and "--md5" in p.stderr and _rows(env) == []
    unset = run([*ADD, "--md5-env", "NO_SUCH_VAR"], env)
    assert unset.returncode == 2 and "NO_SUCH_VAR is not set" in unset.stderr and _rows(env) == []
    bad = run([*ADD, "--md5-env", "PEER_KEY"], {**env, "PEER_KEY": "has space"})
    assert bad.returncode == 2 and "--md5-env/--md5-prompt: The MD5 password" in bad.stderr
    assert "has space" not in bad.stderr + bad.stdout and _rows(env) == []


def test_md5_from_a_hidden_prompt(env: dict[str, str]) -> None:
    import os
    import subprocess

    from tests.cli.test_cli import PEERBOT

    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PEERBOT_"))}
    p = subprocess.run([PEERBOT, *ADD, "--md5-prompt"], env={**base, **env}, input=f"{KEY}\n{KEY}\n",
                       capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert p.returncode == 0, p.stderr
    assert KEY not in p.stdout + p.stderr
    assert "MD5: set" in " ".join(run(["sessions", "show", "1"], env).stdout.split())


def test_a_cli_without_the_operator_role_cannot_add(env: dict[str, str]) -> None:
    p = run(ADD, {**env, "PEERBOT_CLI_ROLES": "viewer"})
    assert p.returncode == 1 and "not allowed to create sessions" in p.stderr and _rows(env) == []
