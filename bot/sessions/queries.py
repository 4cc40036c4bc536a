"""Session queries: list with filters and paging, show one, load one row with what it refers to."""
from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy.orm import joinedload

from bot.base.errors import InvalidInput, NotFound
from bot.sessions.views import LastEmail, ListKey, PendingChange, SessionPage, SessionView
from bot.base.validation import FieldError, parse_asn
from storage.db import Database
from storage.models import AdminStatus, Exchange, Peer, PeerGroup, Router, Session

MAX_ID = 2**31 - 1
STATE_WORDS = {
    "up": "Established", "established": "Established", "idle": "Idle", "active": "Active",
    "connect": "Connect", "opensent": "OpenSent", "openconfirm": "OpenConfirm",
}


@dataclass(frozen=True)
class SessionQuery:
    """`/peering list` filters: `router:r1 ix:AMS-IX state:down asn:65001 free text`."""

    router: str | None = None
    exchange: str | None = None
    state: str | None = None  # a BGP state, or "down" (anything not Established), "admin", "unconfigured"
    asn: int | None = None
    text: str | None = None

    @classmethod
    def parse(cls, text: str) -> SessionQuery:
        fields: dict[str, object] = {}
        free: list[str] = []
        for token in (text or "").split():
            key, sep, value = token.partition(":")
            key = key.lower()
            if sep and value:
                if key in ("router", "rtr"):
                    fields["router"] = value
                elif key in ("ix", "exchange"):
                    fields["exchange"] = value
                elif key == "state":
                    word = value.lower()
                    if word not in {*STATE_WORDS, "down", "admin", "unconfigured"}:
                        raise InvalidInput({"state": f"unknown state '{value[:20]}'; use up, down, idle, active, admin or unconfigured"})
                    fields["state"] = word
                elif key == "asn":
                    fields["asn"] = _asn(value)
                else:
                    free.append(token)
            elif re.fullmatch(r"(?i)AS\d+", token):
                fields["asn"] = _asn(token)
            else:
                free.append(token)
        if free:
            fields["text"] = " ".join(free)
        return cls(**fields)  # type: ignore[arg-type]

    def conditions(self) -> list[ColumnElement[bool]]:
        """The filters, on the session table alone: router, peer and exchange filters as
        `IN (subquery)`, through the indexes on session(router_id, …), peer.asn, session.peer_id
        and session.exchange_id, so that a page joins no more than it sorts by and a count none."""
        conds: list[ColumnElement[bool]] = []
        if self.router:
            conds.append(Session.router_id.in_(select(Router.id).where(func.lower(Router.name) == self.router.lower())))
        if self.exchange:
            # autoescape: "%" and "_" typed by a user are characters, not LIKE wildcards
            conds.append(Session.exchange_id.in_(
                select(Exchange.id).where(func.lower(Exchange.name).contains(self.exchange.lower(), autoescape=True))))
        if self.asn is not None:
            conds.append(Session.peer_id.in_(select(Peer.id).where(Peer.asn == self.asn)))
        if self.state:
            if self.state == "admin":
                conds.append(Session.admin_status == AdminStatus.DOWN)
            elif self.state == "unconfigured":
                conds.append(Session.configured.is_(False))
            elif self.state == "down":
                conds.append(or_(Session.bgp_state.is_(None), Session.bgp_state != "Established"))
            else:
                conds.append(Session.bgp_state == STATE_WORDS[self.state])
        if self.text:
            text = self.text.lower()
            conds.append(or_(
                Session.peer_id.in_(select(Peer.id).where(func.lower(Peer.name).contains(text, autoescape=True))),
                Session.peer_ip.contains(text, autoescape=True),
                func.lower(Session.notes).contains(text, autoescape=True)))
        return conds


def _asn(value: str) -> int:
    try:
        return parse_asn(value).value
    except FieldError as exc:
        raise InvalidInput({"asn": str(exc)}) from None


def _base() -> Select:
    """One session with everything a SessionView shows (by id or IP: no joins to filter on)."""
    return select(Session).options(joinedload(Session.router), joinedload(Session.peer), joinedload(Session.exchange),
                                   joinedload(Session.peer_group))


# -- the list: keyset pages in (router name, peer IP) order --------------------------------------
# That order is an index walk: router's unique name, then the unique (router_id, peer_ip) index
# of its sessions; a page reads a page (no sort of the table), on SQLite and PostgreSQL.
COUNT_CAP = 10_000  # the count stops here: "10,000+" costs what counting 10,000 index entries costs
BATCH = 500  # rows a query when streaming every session (the CLI)


def _ordered(query: SessionQuery, *, after: ListKey | None = None, before: ListKey | None = None) -> Select:
    stmt = select(Session.id).join(Router, Router.id == Session.router_id).where(*query.conditions())
    if after is not None:
        stmt = stmt.where(Router.name >= after.router, or_(Router.name > after.router, Session.peer_ip > after.peer_ip))
    if before is not None:
        stmt = stmt.where(Router.name <= before.router, or_(Router.name < before.router, Session.peer_ip < before.peer_ip))
    return stmt


def _forward(stmt: Select) -> Select:
    return stmt.order_by(Router.name, Session.peer_ip)


def _backward(stmt: Select) -> Select:
    return stmt.order_by(Router.name.desc(), Session.peer_ip.desc())


def _count(conn, query: SessionQuery) -> tuple[int, bool]:  # noqa: ANN001
    """(matching sessions, exact): counted up to COUNT_CAP + 1, or all of them when that is cheap:
    SQLite's count(*) of a whole table reads the b-tree's pages, not its rows (PostgreSQL's reads
    every row, so it stays bounded there)."""
    conds = query.conditions()
    if not conds and conn.dialect.name == "sqlite":
        return conn.scalar(select(func.count()).select_from(Session)) or 0, True
    stmt = select(Session.id).where(*conds)
    counted = conn.scalar(select(func.count()).select_from(stmt.limit(COUNT_CAP + 1).subquery())) or 0
    return counted, counted <= COUNT_CAP


# The columns a list row shows, read as plain rows (no ORM objects: a page is a few rows, and
# building mapped objects with their relationships cost more than the queries themselves).
_ROW = (
    Session.id, Session.session_type, Session.exchange_id, Exchange.name.label("exchange_name"),
    Exchange.is_none.label("exchange_is_none"), Session.router_id, Router.name.label("router_name"),
    Router.platform.label("router_platform"), Router.url.label("router_url"), PeerGroup.name.label("peer_group"),
    Session.local_asn, Session.peer_id, Peer.name.label("peer_name"), Peer.asn.label("peer_asn"),
    Peer.peeringdb_net_id, Session.peer_ip, Session.address_family,
    Session.md5_encrypted.is_not(None).label("has_md5"),  # whether, never the token
    Session.as_set, Session.notes, Session.admin_status, Session.configured, Session.bgp_state,
    Session.prefixes_received, Session.prefixes_accepted, Session.prefixes_advertised, Session.last_state_change,
    Session.last_polled, Session.last_error, Session.created_by, Session.created_at, Session.updated_at,
    Session.needs_check, Session.max_prefixes_v4, Session.max_prefixes_v6,
)


_PAGE_ROWS = (select(*_ROW).join(Router, Router.id == Session.router_id).join(Peer, Peer.id == Session.peer_id)
              .join(Exchange, Exchange.id == Session.exchange_id)
              .outerjoin(PeerGroup, PeerGroup.id == Session.peer_group_id)
              .where(Session.id.in_(bindparam("ids", expanding=True))))


def _fields(keys: tuple[str, ...], row) -> dict:  # noqa: ANN001
    """A page row as SessionView fields: the max-prefix limit of the session's own family, enum
    values, bools. (Zipped with the result's keys once: Row._asdict and attribute access by name
    cost more than the page's queries.)"""
    fields = dict(zip(keys, row))
    v4, v6 = fields.pop("max_prefixes_v4"), fields.pop("max_prefixes_v6")
    fields["max_prefixes"] = v4 if fields["address_family"] == 4 else v6
    fields["session_type"] = fields["session_type"].value
    fields["admin_status"] = fields["admin_status"].value
    for flag in ("has_md5", "needs_check", "configured", "exchange_is_none"):
        fields[flag] = bool(fields[flag])
    return fields


def _views(conn, ids: list[int]) -> list[SessionView]:  # noqa: ANN001
    """The page's rows with their router, peer, exchange, group, last email and open request:
    three queries for the page, none a row. `conn`: a Connection (Core rows, no ORM: for a
    page of plain reads the ORM's per-statement work cost more than the queries)."""
    if not ids:
        return []
    result = conn.execute(_PAGE_ROWS, {"ids": ids})
    keys = tuple(result.keys())
    rows = {row[0]: row for row in result}  # _ROW starts with Session.id
    emails, pending = LastEmail.of_sessions(conn, ids), PendingChange.of_sessions(conn, ids)
    return [SessionView(**_fields(keys, rows[i]), last_email=emails.get(i), pending_change=pending.get(i))
            for i in ids if i in rows]


def list_sessions(db: Database, query_text: str = "", page: int = 1, page_size: int = 15, *,
                  after: ListKey | None = None, before: ListKey | None = None) -> SessionPage:
    """One page of sessions matching `query_text` (the /peering list filters).

    `after`/`before`: the page right after / before that row (Next/Previous: stable when rows are
    added or removed elsewhere; `page` is then only the number shown). Without them, `page`
    counts from the start (1 is the first) or, when negative, from the end (-1 is the last)."""
    query = SessionQuery.parse(query_text)
    page_size = max(1, page_size)
    with db.engine.connect() as s:  # plain reads: Core rows on one connection
        counted, exact = _count(s, query)
        capped = not exact
        total = counted if exact else COUNT_CAP
        pages = max(1, math.ceil(total / page_size))
        if after is not None:
            ids = list(s.scalars(_forward(_ordered(query, after=after)).limit(page_size + 1)))
            has_prev, has_next = True, len(ids) > page_size
            ids = ids[:page_size]
        elif before is not None:
            ids = list(s.scalars(_backward(_ordered(query, before=before)).limit(page_size + 1)))
            if len(ids) > page_size:
                has_prev, has_next, ids = True, True, ids[:page_size][::-1]
            else:  # back at the start: the first page, full
                page, ids, has_prev, has_next = 1, *_page_from_start(s, query, 0, page_size, total, capped)
        else:
            if page < 0 and not capped:
                page = pages + page + 1
            if page < 0:  # from the end, the total unknown
                ids = list(s.scalars(_backward(_ordered(query)).offset((-page - 1) * page_size).limit(page_size + 1)))
                has_prev, has_next, ids = len(ids) > page_size, page < -1, ids[:page_size][::-1]
                if not ids:
                    page, ids, has_prev, has_next = 1, *_page_from_start(s, query, 0, page_size, total, capped)
            else:
                page = max(1, page) if capped else min(max(1, page), pages)
                ids, has_prev, has_next = _page_from_start(s, query, (page - 1) * page_size, page_size, total, capped)
        if exact and (after is not None or before is not None):  # the number a button carried, made true
            page = pages if not has_next else max(1, min(pages + page + 1 if page < 0 else page, pages))
        items = _views(s, ids)
    return SessionPage(items=items, page=page, pages=pages, total=total, query_text=query_text.strip(),
                       total_capped=capped, has_prev=has_prev, has_next=has_next)


def _page_from_start(s, query: SessionQuery, offset: int, page_size: int, total: int,  # noqa: ANN001
                     capped: bool) -> tuple[list[int], bool, bool]:
    """The ids of the rows offset … offset+page_size; read from whichever end is nearer when the
    total is known (the last page of 10,000 costs a page, not 10,000 rows)."""
    if not capped and offset > total // 2:
        n = max(0, min(page_size, total - offset))
        ids = list(s.scalars(_backward(_ordered(query)).offset(total - offset - n).limit(n)))[::-1]
        return ids, offset > 0, offset + n < total
    ids = list(s.scalars(_forward(_ordered(query)).offset(offset).limit(page_size + 1)))
    return ids[:page_size], offset > 0, len(ids) > page_size


def iter_sessions(db: Database, query_text: str = "", batch: int = BATCH) -> Iterator[SessionView]:
    """Every session matching `query_text`, in list order, `batch` rows a query (keyset: each
    query starts after the last row of the one before, so none is skipped or repeated)."""
    query = SessionQuery.parse(query_text)
    after: ListKey | None = None
    while True:
        with db.engine.connect() as s:
            ids = list(s.scalars(_forward(_ordered(query, after=after)).limit(batch)))
            views = _views(s, ids)
        yield from views
        if len(ids) < batch:
            return
        after = ListKey(views[-1].router_name, views[-1].peer_ip)


def get_session(db: Database, ref: str | int) -> SessionView:
    """By id (`42`, `#42`) or by peer IP; an IP used on several routers must be given by id."""
    with db.session() as s:
        return SessionView.of(_resolve(s, ref))


def _resolve(s, ref: str | int) -> Session:  # noqa: ANN001
    text = str(ref).strip().lstrip("#")
    if text.isascii() and text.isdigit():
        # beyond any id; the databases would overflow on the query (and int() refuses 4300+ digits)
        if len(text) > len(str(MAX_ID)) or int(text) > MAX_ID:
            raise NotFound(f"No session #{text[:20]}.")
        row = s.scalar(_base().where(Session.id == int(text)))
        if row is None:
            raise NotFound(f"No session #{text}.")
        return row
    try:
        ip = str(ipaddress.ip_address(text))
    except ValueError:
        raise InvalidInput({"session": "give a session id (e.g. 12) or a peer IP address"}) from None
    rows = list(s.scalars(_base().where(Session.peer_ip == ip)).unique())
    if not rows:
        raise NotFound(f"No session with peer IP {ip}.")
    if len(rows) > 1:
        ids = ", ".join(f"#{r.id} on {r.router.name}" for r in rows)
        raise InvalidInput({"session": f"{ip} is used on several routers ({ids}); give the id"})
    return rows[0]


def load_session(s, session_id: int) -> Session:  # noqa: ANN001
    row = s.scalar(select(Session).where(Session.id == session_id).options(
        joinedload(Session.router), joinedload(Session.peer), joinedload(Session.peer_group),
        joinedload(Session.exchange)))
    if row is None:
        raise NotFound(f"No session #{session_id}.")
    return row
