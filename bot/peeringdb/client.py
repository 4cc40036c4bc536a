"""A small PeeringDB API client on `requests`: rate-limited, retrying, and quiet about its key.

PeeringDB documents 20 requests a minute for anonymous clients and 40 with an API key; the
limiter below keeps us under that on our side, so a sync never earns a 429 in the first place.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import requests

from bot.base.errors import PeerbotError

log = logging.getLogger(__name__)

ANONYMOUS_PER_MINUTE = 20
WITH_KEY_PER_MINUTE = 40
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 120.0  # seconds: a longer Retry-After fails the sync rather than hanging it


class PeeringDBError(PeerbotError):
    """PeeringDB could not be read. The message is one line, safe to show (never the API key)."""


def _peerbot_version() -> str:
    try:
        return version("peerbot")
    except PackageNotFoundError:
        return "dev"


class TokenBucket:
    """At most `per_minute` requests in any 60-second window: a bucket of `burst` tokens refilled
    at (per_minute - burst) a minute, so a full bucket plus a minute's refill is `per_minute`.
    Clock and sleep are injectable so tests need not wait a minute."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, burst: int | None = None):
        # Half the minute's allowance as a burst: a whole sync (7 requests) goes out at once.
        self.capacity = float(burst if burst is not None else max(1, per_minute // 2))
        if not 1 <= self.capacity < per_minute:
            raise ValueError("burst must be at least 1 and below per_minute")
        self.rate = (per_minute - self.capacity) / 60.0
        self.clock = clock
        self.sleep = sleep
        self._tokens = self.capacity
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is there; returns the seconds slept."""
        with self._lock:
            now = self.clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            wait = 0.0
            if self._tokens < 1.0:
                wait = (1.0 - self._tokens) / self.rate
                self.sleep(wait)
                self._last = self.clock()
                self._tokens = 1.0
            self._tokens -= 1.0
            return wait


@dataclass
class PeeringDBClient:
    """GET PeeringDB objects. One instance per sync; not tied to Slack or the database."""

    base_url: str = "https://www.peeringdb.com/api/"
    api_key: str | None = field(default=None, repr=False)  # never in repr, logs or errors
    timeout: float = 60.0
    max_retries: int = 4
    backoff: float = 2.0  # seconds; doubled each retry unless the server says Retry-After
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    limiter: TokenBucket | None = None
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        if not self.base_url.endswith("/"):
            self.base_url += "/"
        if self.limiter is None:
            per_minute = WITH_KEY_PER_MINUTE if self.api_key else ANONYMOUS_PER_MINUTE
            self.limiter = TokenBucket(per_minute, clock=self.clock, sleep=self.sleep)
        self.session.headers["User-Agent"] = f"peerbot/{_peerbot_version()}"
        self.session.headers["Accept"] = "application/json"
        if self.api_key:
            self.session.headers["Authorization"] = f"Api-Key {self.api_key}"

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> PeeringDBClient:
        key = settings.peeringdb_api_key.get_secret_value() if settings.peeringdb_api_key else None
        return cls(base_url=settings.peeringdb_url, api_key=key or None, **kwargs)

    def list(self, object_type: str, *, since: int | None = None, **params: Any) -> list[dict[str, Any]]:
        """All objects of a type (`net`, `ixlan`, ...), depth 0; with `since`, only the ones
        changed since that epoch, deleted ones included (status "deleted")."""
        query: dict[str, Any] = {"depth": 0, **params}
        if since is not None:
            query["since"] = int(since)
        body = self._get(object_type, query)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise PeeringDBError(f"PeeringDB {object_type}: unexpected answer (no data list)")
        return data

    def _get(self, object_type: str, params: dict[str, Any]) -> Any:
        url = self.base_url + object_type
        attempt = 0
        while True:
            assert self.limiter is not None
            self.limiter.acquire()
            try:
                resp = self.session.get(url, params=params, timeout=self.timeout)
            except requests.RequestException as exc:
                # The exception text can hold the URL but never headers: the key stays out.
                problem = f"cannot reach {self.base_url} ({type(exc).__name__})"
                if attempt >= self.max_retries:
                    raise PeeringDBError(f"PeeringDB {object_type}: {problem}") from None
                delay = self.backoff * (2 ** attempt)
            else:
                if resp.status_code == 200:
                    try:
                        return resp.json()
                    except ValueError:
                        raise PeeringDBError(f"PeeringDB {object_type}: the answer is not JSON") from None
                problem = f"HTTP {resp.status_code}{_reason(resp)}"
                if resp.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
                    hint = " (check PEERINGDB_API_KEY)" if resp.status_code in (401, 403) else ""
                    raise PeeringDBError(f"PeeringDB {object_type}: {problem}{hint}"
                                         + (f" after {attempt + 1} attempts" if attempt else ""))
                delay = _retry_after(resp)
                if delay is None:
                    delay = self.backoff * (2 ** attempt)
                elif delay > MAX_RETRY_AFTER:
                    raise PeeringDBError(f"PeeringDB {object_type}: {problem}, asked to retry in {delay:.0f}s: "
                                         "try again later")
            attempt += 1
            log.warning("PeeringDB %s: %s; retry %d/%d in %.1fs", object_type, problem, attempt, self.max_retries, delay)
            self.sleep(delay)


def _reason(resp: requests.Response) -> str:
    return f" {resp.reason}" if resp.reason else ""


def _retry_after(resp: requests.Response) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), if there is one."""
    raw = resp.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when: datetime = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
