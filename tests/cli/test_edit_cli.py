"""`peerbot sessions edit` as a real subprocess: the same service as the Edit button."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.core import Core
from bot.core.settings import Settings
from storage.models import ChangeRequest, ChangeState, Session
from tests.cli.test_catalog_cli import ADD, KEY, env  # noqa: F401 - the env fixture
from tests.cli.test_cli import run


def _core(env: dict[str, str]) -> Core:
    return Core.from_settings(Settings(PEERBOT_DATABASE_URL=env["PEERBOT_DATABASE_URL"], PEERBOT_SECRET_KEY="k"))


def _add(env: dict[str, str]) -> None:  # noqa: F811
    added = run([*ADD, "--md5-env", "PEER_KEY"], {**env, "PEER_KEY": KEY})
    assert added.returncode == 0, added.stderr


def test_edit_an_unconfigured_session(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    _add(env)
    p = run(["sessions", "edit", "1", "--peer-group", "transit", "--description", "Alpha Renamed", "--no-md5",
             "--notes", "ticket NET-9"], env)
    assert p.returncode == 0, p.stderr
    assert "Peer group: – → TRANSIT" in p.stdout and "MD5: removed" in p.stdout and "session #1 updated" in p.stdout
    core = _core(env)
    try:
        with core.db.session() as s:
            row = s.get(Session, 1)
            assert row.peer_group.name == "TRANSIT" and row.md5_encrypted is None and row.peer.name == "Alpha Renamed"
            assert row.notes == "ticket NET-9"
    finally:
        core.db.dispose()
    again = run(["sessions", "edit", "1", "--peer-group", "TRANSIT"], env)
    assert again.returncode == 0 and "nothing changed" in again.stdout


def test_edit_reports_bad_fields_and_keys_come_from_files(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    _add(env)
    bad = run(["sessions", "edit", "1", "--peer-ip", "198.51.100.9", "--peer-asn", "AS99999999999"], env)
    assert bad.returncode == 2
    assert "--peer-ip" in bad.stderr and "--peer-asn" in bad.stderr
    key_file = tmp_path / "key"
    key_file.write_text("N3w-Md5-Key-123\n")
    p = run(["sessions", "edit", "1", "--md5-file", str(key_file)], env)
    assert p.returncode == 0, p.stderr
    assert "MD5: changed" in p.stdout and "N3w-Md5-Key-123" not in p.stdout + p.stderr
    core = _core(env)
    try:
        with core.db.session() as s:
            assert core.secrets.decrypt(s.get(Session, 1).md5_encrypted) == "N3w-Md5-Key-123"
    finally:
        core.db.dispose()


def test_edit_of_a_configured_session_is_a_change_request(env: dict[str, str]) -> None:  # noqa: F811
    _add(env)
    core = _core(env)
    try:
        with core.db.session() as s:
            s.get(Session, 1).configured = True  # as if Configure had run
    finally:
        core.db.dispose()
    p = run(["sessions", "edit", "1", "--description", "Alpha Renamed", "--no-md5"], env)
    assert p.returncode == 0, p.stderr
    assert "neighbor 192.0.2.50 description Alpha Renamed AS65601" in p.stdout
    assert "no neighbor 192.0.2.50 password" in p.stdout and "waits for approval" in p.stdout
    core = _core(env)
    try:
        with core.db.session() as s:
            req = s.scalars(select(ChangeRequest)).one()
            assert req.action == "edit" and req.state == ChangeState.REQUESTED
            assert s.get(Session, 1).peer.name == "Alpha Networks"  # until the router has it
    finally:
        core.db.dispose()


def test_edit_of_a_configured_session_names_an_as_set_that_cannot_be_its_filter(env: dict[str, str]) -> None:  # noqa: F811
    _add(env)
    core = _core(env)
    try:
        with core.db.session() as s:
            s.get(Session, 1).configured = True
    finally:
        core.db.dispose()
    p = run(["sessions", "edit", "1", "--as-set", "AS-NOT-IMPORTED", "--max-prefixes-v4", "2500"], env)
    assert p.returncode == 2
    assert "--as-set" in p.stderr and "AS-SET AS-NOT-IMPORTED is not known locally" in p.stderr
    ok = run(["sessions", "edit", "1", "--max-prefixes-v4", "2500"], env)
    assert ok.returncode == 0, ok.stderr
    assert "neighbor 192.0.2.50 maximum-prefix 2500 90" in ok.stdout and "waits for approval" in ok.stdout
