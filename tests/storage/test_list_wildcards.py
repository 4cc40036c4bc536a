"""`/peering list` filters are literal text: `%` and `_` are characters, not LIKE wildcards."""
from __future__ import annotations


import pytest

from bot.core import Core
from bot.sessions.queries import list_sessions
from tests.factories import make_session


def _names(core: Core, query: str) -> list[str]:
    return sorted(v.peer_name for v in list_sessions(core.db, query, page_size=100).items)


def test_free_text_and_exchange_filters_are_literal(any_core: Core) -> None:
    make_session(any_core, ip="192.0.2.10", name="Uptime 100% Networks", asn="65601")
    make_session(any_core, ip="192.0.2.11", name="Under_Score", asn="65602")
    make_session(any_core, ip="192.0.2.12", name="Plain", asn="65603", notes="ticket 50% done")
    make_session(any_core, ip="198.51.100.7", name="Other", asn="65604", exchange="OTHER-IX", router="edge2")
    assert _names(any_core, "%") == ["Plain", "Uptime 100% Networks"]
    assert _names(any_core, "_") == ["Under_Score"]
    assert _names(any_core, "under_score") == ["Under_Score"]
    assert _names(any_core, "100%") == ["Uptime 100% Networks"]
    assert _names(any_core, "0.2.1_") == []  # "_" would match the digit of 192.0.2.10-12
    assert _names(any_core, "ix:%") == []
    assert _names(any_core, "ix:_") == []
    assert _names(any_core, "ix:OTHER-IX") == ["Other"]
    assert _names(any_core, "ix:example") == ["Plain", "Under_Score", "Uptime 100% Networks"]
    assert _names(any_core, "plain") == ["Plain"]


def test_show_with_a_huge_id_is_not_found(database_url: str) -> None:
    from bot.base.errors import NotFound
    from bot.sessions.queries import get_session
    from storage.db import Database

    db = Database(database_url)
    db.upgrade()
    with pytest.raises(NotFound):
        get_session(db, "9" * 5000)
    db.dispose()
