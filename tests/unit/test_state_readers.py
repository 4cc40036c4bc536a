"""State reads in child processes (bot/routers/state_readers.py) against the simulated SSH fleet:
states come back parsed, errors keep their kind, and a child that dies fails only the reads it
was doing and is replaced on the next read."""
from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest

from bot.routers import Platform, RouterAuthFailed, RouterCredentials, RouterError
from bot.routers.state_readers import StateReaders
from tests.harness.ssh_fleet import PASSWORD, USERNAME, SshFleet, neighbor_ip


@pytest.fixture(scope="module")
def fleet() -> Iterator[SshFleet]:
    with SshFleet(routers=2, sessions=3, hanging=1, connect_delay=0, command_delay=0) as f:
        yield f


@pytest.fixture
def readers() -> Iterator[StateReaders]:
    r = StateReaders(processes=1, threads=4)
    r.start()
    yield r
    r.close()


def creds(port: int, password: str = PASSWORD) -> RouterCredentials:
    return RouterCredentials(host="127.0.0.1", port=port, username=USERNAME, password=password, key_file=None,
                             platform=Platform.FRR)


def test_a_child_reads_and_parses_the_neighbors(fleet: SshFleet, readers: StateReaders) -> None:
    states = readers.read(creds(fleet.routers[0].port), 5, wait=10)
    assert sorted(states) == sorted(neighbor_ip(i) for i in range(3))
    assert {s.state for s in states.values()} == {"Established"}
    assert readers.pids() and os.getpid() not in readers.pids()


def test_errors_keep_their_kind_and_never_carry_the_password(fleet: SshFleet, readers: StateReaders) -> None:
    with pytest.raises(RouterAuthFailed) as err:
        readers.read(creds(fleet.routers[0].port, password="wrong-secret-123"), 5, wait=10)
    assert "wrong-secret-123" not in str(err.value)


def test_a_child_that_dies_fails_its_reads_and_is_replaced(fleet: SshFleet, readers: StateReaders) -> None:
    hanging = fleet.routers[-1]  # accepts TCP, never says a word
    outcome: dict = {}

    def read_hanging() -> None:
        try:
            readers.read(creds(hanging.port), 30, wait=60)
        except RouterError as exc:
            outcome["error"] = exc

    t = threading.Thread(target=read_hanging)
    t.start()
    [pid] = readers.pids()
    threading.Event().wait(0.5)  # the read is under way in the child
    os.kill(pid, signal.SIGKILL)
    t.join(10)
    assert not t.is_alive()
    assert "exited during the read" in str(outcome["error"])
    states = readers.read(creds(fleet.routers[0].port), 5, wait=10)  # a new child does it
    assert len(states) == 3 and readers.pids() != [pid]


def test_an_answer_that_never_ends_fails_the_read_instead_of_filling_memory(fleet: SshFleet,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.routers import get_driver, vtysh_session

    monkeypatch.setattr(vtysh_session, "MAX_ANSWER", 5_000)  # the simulated answer is ~7 KB
    with pytest.raises(RouterError) as err, get_driver(creds(fleet.routers[0].port), timeout=5) as drv:
        drv.neighbors()
    assert "passed 5,000 characters" in str(err.value)
