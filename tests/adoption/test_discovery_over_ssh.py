"""Discovery through the real path: netmiko over SSH to simulated FRR routers, read in the state
reader child processes (kind "config"), parsed by the FRR parser; a router that hangs fails only
itself."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adoption.discovery import NEW, Discovery
from bot.adoption.importer import import_neighbors
from bot.core import Core
from storage.models import Router, Session
from tests.harness.bot import OPERATOR, settings_for
from tests.harness.ssh_fleet import PASSWORD, PASSWORD_ENV, SshFleet, neighbor_ip, register


@pytest.fixture(scope="module")
def fleet() -> Iterator[SshFleet]:
    with SshFleet(routers=2, sessions=4, hanging=1, connect_delay=0, command_delay=0) as f:
        yield f


def test_discover_and_import_over_ssh(fleet: SshFleet, sqlite_url: str, slack, tmp_path: Path,  # noqa: ANN001
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    core = Core.from_settings(settings_for(sqlite_url, slack, tmp_path, PEERBOT_POLL_PROCESSES=1,
                                           PEERBOT_ROUTER_TIMEOUT=3, PEERBOT_POLL_TIMEOUT=5))
    ids = register(core.db, [r.port for r in fleet.routers], 0)
    found = {d.router: d for d in Discovery(core).discover(ids)}
    assert found["r1"].ok and found["r2"].ok, (found["r1"].error, found["r2"].error)
    assert found["r1"].count(NEW) == 4 and [n.peer_ip for n in found["r1"].neighbors] == [neighbor_ip(i) for i in range(4)]
    assert not found["r3"].ok  # the hanging router
    with core.db.session() as s:
        assert s.scalar(select(Router.config_error).where(Router.name == "r3"))
    result = import_neighbors(core, OPERATOR, ids[0])
    assert len(result.created) == 4
    with core.db.session() as s:
        names = sorted(s.scalars(select(Session.peer_ip)))
    assert names == sorted(neighbor_ip(i) for i in range(4))
    core.db.dispose()
