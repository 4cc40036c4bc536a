"""Names that come from outside (PeeringDB exchange and network names, inventory, router error
texts, SMTP answers) carrying Slack control text reach every message escaped: in the blocks and
in the notification fallback `text`, which Slack also reads as mrkdwn."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bot.polling.history import HistoryEntry, SessionHistory
from bot.home.summary import ChangedLine, HomeSummary, RouterLine
from bot.notices.outbox import OutgoingNotice
from handlers.views.changes import with_note
from handlers.views.history import with_history
from handlers.views.home import home_view
from handlers.views.notices import render_notice
from handlers.views.sessions import error_message, session_detail
from tests.factories import make_session

EVIL = "<!channel> <@U123> <http://evil.example|click> & *x*"
RAW = ("<!channel>", "<@U123>", "<http://evil.example")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def _texts(obj: Any) -> list[str]:
    """Every mrkdwn text of a message or view, and its fallback `text`."""
    out: list[str] = []
    if isinstance(obj, dict):
        if isinstance(obj.get("text"), str) and obj.get("type", "mrkdwn") == "mrkdwn":
            out.append(obj["text"])
        for v in obj.values():
            out += _texts(v)
    elif isinstance(obj, list):
        for v in obj:
            out += _texts(v)
    return out


def assert_escaped(msg: dict[str, Any]) -> None:
    texts = _texts(msg)
    assert texts
    for text in texts:
        for raw in RAW:
            assert raw not in text, (raw, text[:300])
    assert "&amp;" in json.dumps(msg)  # the & of EVIL, escaped (not dropped)


PAYLOAD = {"peer": EVIL, "ip": "192.0.2.1", "router": EVIL, "old": "Established", "new": None, "reason": EVIL,
           "session_id": 1, "since": "2026-12-01T10:00:00", "changes": 5, "minutes": 30, "state": None,
           "count": 3, "lost": 1, "error": EVIL, "sessions": [{"peer": EVIL, "ip": EVIL, "old": None, "new": EVIL}]}


@pytest.mark.parametrize("kind", ["change", "flapping", "stable", "summary", "unreachable", "reachable"])
def test_every_notice_escapes_names_in_blocks_and_fallback(kind: str) -> None:
    assert_escaped(render_notice(OutgoingNotice(1, kind, "C1", "s:1", dict(PAYLOAD))))


def test_detail_history_home_and_errors_escape_outside_names(inventory_core) -> None:  # noqa: ANN001
    view = replace(make_session(inventory_core, name="Plain Peer"), peer_name=EVIL, router_name=EVIL,
                   exchange_name=EVIL, notes=EVIL, last_error=EVIL, as_set=EVIL)
    detail = session_detail(view)
    assert_escaped(detail)
    assert_escaped(with_note(detail, "a note"))
    entries = [HistoryEntry(NOW - timedelta(minutes=i), None if i % 2 else EVIL, EVIL if i % 3 else None, EVIL,
                            None, None, "poll") for i in range(3000)]
    history = SessionHistory(view.id, None, None, NOW, recent=entries[:10], changes_24h=3000, window=entries[::-1])
    shown = with_history(detail, history)
    assert_escaped(shown)
    assert len(shown["blocks"]) <= 50
    home = home_view(HomeSummary(NOW, 1, [(None, 1), (EVIL, 2)], [RouterLine(EVIL, None, EVIL, 1)], 1, 1,
                                 [ChangedLine(1, EVIL, EVIL, EVIL, None, 2, NOW)], 1))
    assert_escaped({**home, "text": "&"})
    assert_escaped(error_message(EVIL))


def test_timeline_renders_odd_histories(inventory_core) -> None:  # noqa: ANN001
    """None states, thousands of rows and names with control text: a PNG, no exception."""
    from bot.polling.timeline import render_timeline

    entries = [HistoryEntry(NOW - timedelta(days=7) + timedelta(seconds=200 * i), None if i % 5 == 0 else EVIL,
                            None if i % 7 == 0 else ("Established" if i % 2 else "Idle"), None, None, None, "poll")
               for i in range(3000)]
    history = SessionHistory(1, None, None, NOW, window=entries, state_before_window=None)
    png = render_timeline(history, f"{EVIL}: last 7 days (UTC)")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    empty = render_timeline(SessionHistory(1, None, None, NOW), "nothing")
    assert empty[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kind", ["change", "flapping", "stable", "summary", "unreachable", "reachable"])
@pytest.mark.parametrize("payload", [{}, {k: None for k in PAYLOAD}, {"sessions": [{}] * 200, "count": 200},
                                     {"sessions": [{"peer": "x" * 5000, "ip": None}] * 30, "count": 30, "error": "e" * 9000}])
def test_notices_render_odd_payloads(kind: str, payload: dict) -> None:
    """Notices stored by an older version, or with nothing known: they render within Slack's limits."""
    msg = render_notice(OutgoingNotice(1, kind, "C1", "s:1", dict(payload)))
    assert msg["text"] and len(msg["blocks"]) <= 50
    for block in msg["blocks"]:
        for text in _texts(block):
            assert len(text) <= 3000
