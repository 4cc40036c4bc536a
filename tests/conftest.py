"""Shared fixtures: databases (SQLite and PostgreSQL), the fake Slack API, the running bot."""
from __future__ import annotations

import io
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.core import Core
from bot.base.logs import QUIET_LOGGERS, setup_logging
from tests.harness.bot import RunningBot, start_bot, settings_for
from tests.harness.fake_slack import FakeSlack
from tests.lab_fixture import *  # noqa: F401,F403 - frr_lab, clean_lab, irr_server

LAB_FIXTURES = {"frr_lab", "clean_lab", "lab_vtysh", "bird_lab", "clean_bird", "obgp_lab", "clean_obgp"}


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that uses the FRR lab carries the `lab` mark, also when it only asks for a lab
    fixture: .ci/run runs `-m "not lab"` spread over the cores (pytest-xdist) and then `-m lab`
    in one process (the lab is one set of namespaces, built once per session)."""
    for item in items:
        if LAB_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("lab"):
            item.add_marker(pytest.mark.lab)


PG_URL = os.environ.get("PEERBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
INVENTORY = Path(__file__).parent / "data" / "inventory.yml"


def _pg_available() -> bool:
    try:
        with create_engine(PG_URL, connect_args={"connect_timeout": 3}).connect() as c:
            c.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001
        return False


PG_AVAILABLE = _pg_available()


def _pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a private schema in the PostgreSQL test DB."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'peerbot.db'}"
        return
    if not PG_AVAILABLE:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL not reachable at {PG_URL} (CI must start it)")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'peerbot.db'}"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def core(sqlite_url: str, slack: FakeSlack, tmp_path: Path) -> Iterator[Core]:
    c = Core.from_settings(settings_for(sqlite_url, slack, tmp_path))
    yield c
    c.db.dispose()


@pytest.fixture
def any_core(database_url: str, slack: FakeSlack, tmp_path: Path) -> Iterator[Core]:
    """A core with the test inventory on each database (SQLite, then PostgreSQL)."""
    from bot.sessions.inventory import load_inventory

    c = Core.from_settings(settings_for(database_url, slack, tmp_path))
    load_inventory(c.db, INVENTORY)
    yield c
    c.db.dispose()


@pytest.fixture
def inventory_core(core: Core) -> Core:
    from bot.sessions.inventory import load_inventory

    load_inventory(core.db, INVENTORY)
    return core


@pytest.fixture
def bot(inventory_core: Core, slack: FakeSlack) -> Iterator[RunningBot]:
    running = start_bot(inventory_core, slack)
    yield running
    running.stop()


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The bot's logging set-up at DEBUG, writing into a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in QUIET_LOGGERS})
    buf = io.StringIO()
    setup_logging("DEBUG", stream=buf)
    yield buf
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)
