"""`/peering list` pages on SQLite and PostgreSQL: keyset Previous/Next, first/middle/last pages,
filters, a bounded count, and pages that stay put when rows are added elsewhere."""
from __future__ import annotations

from sqlalchemy import insert, select

import pytest

from bot.core import Core
from bot.sessions.queries import COUNT_CAP, list_sessions
from bot.sessions.views import ListKey, SessionPage
from storage.models import Router, Session, SessionType
from tests.harness.bulk import load_sessions

SIZE = 10


def _keys(page: SessionPage) -> list[tuple[str, str]]:
    return [(v.router_name, v.peer_ip) for v in page.items]


def _all(core: Core, query: str = "") -> list[tuple[str, str]]:
    return _keys(list_sessions(core.db, query, page=1, page_size=10_000))


def _walk(core: Core, query: str = "") -> list[SessionPage]:
    """Next, Next, … as the buttons do (each page starts after the last row of the one before)."""
    pages = [list_sessions(core.db, query, page=1, page_size=SIZE)]
    while pages[-1].next:
        last = pages[-1]
        pages.append(list_sessions(core.db, query, page=last.page + 1, page_size=SIZE,
                                   after=ListKey.of(last.items[-1])))
    return pages


@pytest.fixture
def loaded(any_core: Core) -> Core:
    load_sessions(any_core.db, 95, routers=4, exchanges=3)
    return any_core


def test_order_first_middle_last_pages(loaded: Core) -> None:
    everything = _all(loaded)
    assert len(everything) == 95 and everything == sorted(everything)  # router name, then peer IP
    first = list_sessions(loaded.db, page=1, page_size=SIZE)
    assert (first.page, first.pages, first.total, first.prev, first.next) == (1, 10, 95, False, True)
    assert _keys(first) == everything[:SIZE]
    middle = list_sessions(loaded.db, page=6, page_size=SIZE)  # read from the nearer end
    assert _keys(middle) == everything[50:60] and middle.prev and middle.next
    last = list_sessions(loaded.db, page=-1, page_size=SIZE)
    assert (last.page, last.prev, last.next) == (10, True, False)
    assert _keys(last) == everything[90:]
    assert _keys(list_sessions(loaded.db, page=999, page_size=SIZE)) == everything[90:]  # clamped


def test_next_and_previous_walk_every_row_once(loaded: Core) -> None:
    everything = _all(loaded)
    pages = _walk(loaded)
    assert [k for p in pages for k in _keys(p)] == everything
    assert [p.page for p in pages] == list(range(1, 11)) and not pages[-1].next
    back = list_sessions(loaded.db, page=9, page_size=SIZE, before=ListKey.of(pages[-1].items[0]))
    assert _keys(back) == everything[80:90] and back.prev and back.next
    # Previous from the second page: the first page, full, whatever the number the button said
    first = list_sessions(loaded.db, page=7, page_size=SIZE, before=ListKey.of(pages[1].items[0]))
    assert (first.page, _keys(first), first.prev) == (1, everything[:SIZE], False)


def test_pages_stay_put_when_rows_are_added(loaded: Core) -> None:
    page2 = _walk(loaded)[1]
    with loaded.db.session() as s:  # a router sorting first, with sessions: offsets would shift
        s.add(Router(name="aaa-first", host="h", port=22, platform="frr", username="u", local_asns=[1], addresses=[]))
        s.flush()
        rid = s.scalar(select(Router.id).where(Router.name == "aaa-first"))
        template = s.scalar(select(Session))
        ids = (template.peer_id, template.exchange_id)
    with loaded.db.engine.begin() as c:
        c.execute(insert(Session), [{"session_type": SessionType.PUBLIC, "exchange_id": ids[1], "router_id": rid,
                                     "local_asn": 1, "peer_id": ids[0], "peer_ip": f"198.18.0.{n}",
                                     "address_family": 4, "needs_check": False} for n in range(1, 8)])
    page3 = list_sessions(loaded.db, page=3, page_size=SIZE, after=ListKey.of(page2.items[-1]))
    everything = _all(loaded)
    start = everything.index(_keys(page2)[-1]) + 1
    assert _keys(page3) == everything[start:start + SIZE]  # right after page 2's last row: none skipped
    assert list_sessions(loaded.db, page=1, page_size=SIZE).total == 102


def test_filters_page_too(loaded: Core) -> None:
    everything = _all(loaded)
    name = everything[40][0]
    on_r2 = [k for k in everything if k[0] == name]
    assert _all(loaded, f"router:{name.upper()}") == on_r2 and len(on_r2) > SIZE
    pages = _walk(loaded, f"router:{name}")
    assert [k for p in pages for k in _keys(p)] == on_r2 and pages[0].total == len(on_r2)
    down = list_sessions(loaded.db, "state:down", page_size=10_000).items
    assert down and all(v.bgp_state != "Established" for v in down)
    ix = list_sessions(loaded.db, "ix:bench-ix", page_size=10_000)
    assert ix.total == 95
    one = list_sessions(loaded.db, "AS4200000002", page_size=10_000).items
    assert one and {v.peer_asn for v in one} == {4_200_000_002}
    noted = list_sessions(loaded.db, "net-1", page_size=10_000).items  # notes, free text
    assert noted and all("NET-1" in (v.notes or "") for v in noted)
    assert list_sessions(loaded.db, "router:nope").total == 0


def test_count_is_capped(any_core: Core) -> None:
    load_sessions(any_core.db, COUNT_CAP + 5, routers=3, exchanges=2)
    query = "ix:bench-ix"  # every session, through a filter: the count stops at the cap
    first = list_sessions(any_core.db, query, page=1, page_size=SIZE)
    assert (first.total, first.total_capped, first.next) == (COUNT_CAP, True, True)
    last = list_sessions(any_core.db, query, page=-1, page_size=SIZE)
    assert (last.page, last.next, last.prev, len(last.items)) == (-1, False, True, SIZE)
    everything_tail = list_sessions(any_core.db, query, page=-2, page_size=SIZE)
    assert everything_tail.page == -2 and _keys(everything_tail) < _keys(last)
    back = list_sessions(any_core.db, query, page=-2, page_size=SIZE, before=ListKey.of(last.items[0]))
    assert _keys(back) == _keys(everything_tail)
    unfiltered = list_sessions(any_core.db, page=-1, page_size=SIZE)
    if any_core.db.engine.dialect.name == "sqlite":  # a whole-table count is cheap there: exact
        assert (unfiltered.total, unfiltered.total_capped, unfiltered.page) == (COUNT_CAP + 5, False, 1001)
        assert _keys(unfiltered) == _keys(last)[-5:]
    else:
        assert (unfiltered.total, unfiltered.total_capped, _keys(unfiltered)) == (COUNT_CAP, True, _keys(last))


def test_a_list_row_is_the_same_view_as_show(any_core: Core) -> None:
    """The list reads plain rows, show reads the mapped session: the same SessionView either way."""
    from bot.sessions.queries import get_session
    from tests.factories import make_session

    made = [make_session(any_core, ip="192.0.2.10", md5="Pe3r-S3cret.md5", notes="NET-7", name="With Key"),
            make_session(any_core, ip="2001:db8::10", name="No Key", session_type="local", exchange="No Exchange")]
    listed = {v.id: v for v in list_sessions(any_core.db, page_size=40).items}
    for v in made:
        assert listed[v.id] == get_session(any_core.db, v.id)
    assert listed[made[0].id].has_md5 and not listed[made[1].id].has_md5
