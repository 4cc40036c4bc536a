"""Services against both databases: create, secrets at rest, list filters and paging."""
from __future__ import annotations


import pytest
from sqlalchemy import select

from bot.core import Core
from bot.base.errors import InvalidInput, NotFound
from bot.sessions.queries import get_session, list_sessions
from storage.models import AuditEvent, Session
from tests.factories import make_session


def test_md5_is_encrypted_at_rest_and_audit_has_no_secret(any_core: Core) -> None:
    v = make_session(any_core, md5="s3cret-Key")
    assert v.has_md5
    with any_core.db.session() as s:
        row = s.get(Session, v.id)
        assert row.md5_encrypted and "s3cret-Key" not in row.md5_encrypted
        assert any_core.secrets.decrypt(row.md5_encrypted) == "s3cret-Key"
        events = s.scalars(select(AuditEvent)).all()
    assert [e.action for e in events] == ["session.create"]
    assert "s3cret" not in repr(events[0].after) and events[0].after["md5"] == "set"


def test_list_filters_and_paging(any_core: Core) -> None:
    for n in range(1, 24):
        make_session(any_core, ip=f"192.0.2.{10 + n}", asn=str(65600 + n % 3), name=f"Peer {n:02d}")
    make_session(any_core, ip="198.51.100.7", asn="65700", name="Other", exchange="OTHER-IX", router="edge2")
    page1 = list_sessions(any_core.db, "", page=1, page_size=10)
    assert (page1.total, page1.pages, len(page1.items)) == (24, 3, 10)
    page3 = list_sessions(any_core.db, "", page=3, page_size=10)
    assert len(page3.items) == 4
    assert {v.id for v in page1.items}.isdisjoint({v.id for v in page3.items})
    assert list_sessions(any_core.db, "router:edge2").total == 1
    assert list_sessions(any_core.db, "ix:other").total == 1
    assert list_sessions(any_core.db, "AS65601").total == 8
    assert list_sessions(any_core.db, "asn:65601 router:edge1").total == 8
    assert list_sessions(any_core.db, "state:unconfigured").total == 24
    assert list_sessions(any_core.db, "state:up").total == 0
    assert [v.peer_name for v in list_sessions(any_core.db, "peer 07").items] == ["Peer 07"]
    assert list_sessions(any_core.db, "192.0.2.33").items[0].peer_name == "Peer 23"
    with pytest.raises(InvalidInput):
        list_sessions(any_core.db, "state:sideways")


def test_get_session_by_id_and_ip(any_core: Core) -> None:
    v = make_session(any_core, ip="2001:db8::a")
    assert get_session(any_core.db, str(v.id)).peer_ip == "2001:db8::a"
    assert get_session(any_core.db, f"#{v.id}").id == v.id
    assert get_session(any_core.db, "2001:DB8:0::A").id == v.id  # normalised
    with pytest.raises(NotFound):
        get_session(any_core.db, "999")
    with pytest.raises(NotFound):
        get_session(any_core.db, "192.0.2.99")
    with pytest.raises(NotFound):  # would overflow the id column on both databases
        get_session(any_core.db, "99999999999999999999")
    with pytest.raises(InvalidInput):
        list_sessions(any_core.db, "asn:99999999999999999999")


def test_peer_search_is_literal_and_bounded(any_core: Core) -> None:
    from bot.sessions.pickers import search_peers

    make_session(any_core, ip="192.0.2.10", name="Alpha 100pct", asn="65601")
    make_session(any_core, ip="192.0.2.11", name="Beta", asn="65602")
    assert [p.name for p in search_peers(any_core.db, "%")] == []  # "%" is a character, not a wildcard
    assert [p.name for p in search_peers(any_core.db, "AS65602")] == ["Beta"]
    assert search_peers(any_core.db, "AS" + "9" * 30) == []  # no overflow, just no match
    assert search_peers(any_core.db, "²") == []
