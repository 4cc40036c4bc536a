"""The PeeringDB client against a local HTTP server: headers, retries, errors, the rate limiter."""
from __future__ import annotations

import logging

import pytest

from bot.peeringdb.client import PeeringDBClient, PeeringDBError, TokenBucket
from tests.harness.fake_peeringdb import FakePeeringDB
from tests.peeringdb.conftest import FakeTime


def test_lists_objects_with_user_agent_and_depth(fake_pdb: FakePeeringDB, pdb_client: PeeringDBClient) -> None:
    nets = pdb_client.list("net")
    assert {n["asn"] for n in nets} == {13335, 6939, 15169, 64999}
    req = fake_pdb.of("net")[0]
    assert req.query == {"depth": "0"}
    assert req.headers["user-agent"].startswith("peerbot/")
    assert "authorization" not in req.headers


def test_api_key_is_sent_as_header_and_never_shown(fake_pdb: FakePeeringDB, fake_time: FakeTime,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    client = PeeringDBClient(base_url=fake_pdb.url, api_key="s3cr3t-key-abc", clock=fake_time.clock,
                             sleep=fake_time.sleep, max_retries=1)
    client.list("ix", since=12345)
    assert fake_pdb.of("ix")[0].headers["authorization"] == "Api-Key s3cr3t-key-abc"
    assert fake_pdb.of("ix")[0].query["since"] == "12345"
    assert "s3cr3t" not in repr(client)
    fake_pdb.fail("net", 503, times=5)
    with caplog.at_level(logging.DEBUG), pytest.raises(PeeringDBError) as err:
        client.list("net")
    assert "s3cr3t" not in str(err.value) and "s3cr3t" not in caplog.text
    assert client.limiter.rate * 60 + client.limiter.capacity == 40  # the keyed rate


def test_429_then_success_honours_retry_after(fake_pdb: FakePeeringDB, pdb_client: PeeringDBClient,
                                              fake_time: FakeTime) -> None:
    fake_pdb.fail("net", 429, times=1, Retry_After="7")
    nets = pdb_client.list("net")
    assert len(nets) == 4
    assert len(fake_pdb.of("net")) == 2
    assert 7 in fake_time.sleeps


def test_5xx_retried_with_backoff_then_a_one_line_error(fake_pdb: FakePeeringDB, pdb_client: PeeringDBClient,
                                                       fake_time: FakeTime) -> None:
    fake_pdb.fail("net", 500, times=10)
    with pytest.raises(PeeringDBError) as err:
        pdb_client.list("net")
    msg = str(err.value)
    assert msg == "PeeringDB net: HTTP 500 Internal Server Error after 5 attempts"
    assert "\n" not in msg
    assert fake_time.sleeps[-4:] == [2.0, 4.0, 8.0, 16.0]


def test_client_errors_are_not_retried(fake_pdb: FakePeeringDB, pdb_client: PeeringDBClient) -> None:
    fake_pdb.fail("net", 403)
    with pytest.raises(PeeringDBError, match=r"^PeeringDB net: HTTP 403 Forbidden \(check PEERINGDB_API_KEY\)$"):
        pdb_client.list("net")
    assert len(fake_pdb.of("net")) == 1


def test_unreachable_server_is_a_clear_error(fake_time: FakeTime) -> None:
    client = PeeringDBClient(base_url="http://127.0.0.1:9/api/", clock=fake_time.clock, sleep=fake_time.sleep,
                             max_retries=1, timeout=2)
    with pytest.raises(PeeringDBError, match=r"^PeeringDB net: cannot reach http://127.0.0.1:9/api/ \(ConnectionError\)$"):
        client.list("net")


@pytest.mark.parametrize("per_minute", [20, 40])
def test_rate_limiter_never_exceeds_the_documented_rate(per_minute: int) -> None:
    t = FakeTime()
    bucket = TokenBucket(per_minute, clock=t.clock, sleep=t.sleep)
    stamps = []
    for _ in range(200):
        bucket.acquire()
        stamps.append(t.now)
    # Any 60-second window holds at most per_minute requests.
    for i, start in enumerate(stamps):
        in_window = [s for s in stamps[i:] if s < start + 60]
        assert len(in_window) <= per_minute
    # ...and does not throttle below half of it over a long run.
    assert stamps[-1] - stamps[0] < 200 / (per_minute * 0.5) * 60
    # A whole sync (7 object types) is not delayed.
    t2 = FakeTime()
    fresh = TokenBucket(per_minute, clock=t2.clock, sleep=t2.sleep)
    assert [fresh.acquire() for _ in range(7)] == [0.0] * 7


def test_client_uses_the_anonymous_rate_without_a_key(pdb_client: PeeringDBClient) -> None:
    assert pdb_client.limiter.rate * 60 + pdb_client.limiter.capacity == 20
