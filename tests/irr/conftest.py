"""IRR import fixtures: the fake IRRd (tests/irr_server.py) on 127.0.0.1 with data a test may
change between imports, and cores whose PEERBOT_IRR_HOST points at it."""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core import Core
from tests.harness.bot import settings_for
from tests.harness.fake_slack import FakeSlack
from tests.irr_server import IRR_TEST_DATA, IRRData, IRRServer, start_irr_server

INVENTORY = Path(__file__).resolve().parents[1] / "data" / "inventory.yml"


class Irr:
    """The running fake IRRd: `host` for PEERBOT_IRR_HOST, `data` to edit, `publish()` to serve it."""

    def __init__(self, server: IRRServer):
        self.server = server
        self.data: dict[str, Any] = copy.deepcopy(IRR_TEST_DATA)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def publish(self) -> None:
        self.server.db = IRRData(self.data)


@pytest.fixture
def irr() -> Iterator[Irr]:
    server, _ = start_irr_server(copy.deepcopy(IRR_TEST_DATA))
    yield Irr(server)
    server.close()


@pytest.fixture
def make_irr_core(database_url: str, slack: FakeSlack, tmp_path: Path, irr: Irr) -> Iterator[Callable[..., Core]]:
    """Cores on SQLite and PostgreSQL with the test inventory, asking the fake IRRd;
    keyword arguments are more settings (PEERBOT_IRR_MAX_PREFIXES=...)."""
    from bot.sessions.inventory import load_inventory

    made: list[Core] = []

    def make(**extra: object) -> Core:
        core = Core.from_settings(settings_for(database_url, slack, tmp_path, PEERBOT_IRR_HOST=irr.host, **extra))
        if not made:
            load_inventory(core.db, INVENTORY)
        made.append(core)
        return core

    yield make
    for core in made:
        core.db.dispose()
