"""A local PeeringDB API and a client that never really sleeps (the delays it asked for are kept)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.peeringdb.client import PeeringDBClient
from storage.db import Database
from tests.harness.fake_peeringdb import FakePeeringDB


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_pdb() -> Iterator[FakePeeringDB]:
    fake = FakePeeringDB().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def pdb_client(fake_pdb: FakePeeringDB, fake_time: FakeTime) -> PeeringDBClient:
    return PeeringDBClient(base_url=fake_pdb.url, clock=fake_time.clock, sleep=fake_time.sleep, timeout=5)


@pytest.fixture
def mirror_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.upgrade()
    yield db
    db.dispose()
