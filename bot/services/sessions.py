"""Session queries: list with filters and paging, show one."""
from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from bot.errors import InvalidInput, NotFound
from bot.services.views import SessionPage, SessionView
from bot.validation import FieldError, parse_asn
from storage.db import Database
from storage.models import AdminStatus, Exchange, Peer, Router, Session

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

    def apply(self, stmt: Select) -> Select:
        if self.router:
            stmt = stmt.where(func.lower(Router.name) == self.router.lower())
        if self.exchange:
            # autoescape: "%" and "_" typed by a user are characters, not LIKE wildcards
            stmt = stmt.where(func.lower(Exchange.name).contains(self.exchange.lower(), autoescape=True))
        if self.asn is not None:
            stmt = stmt.where(Peer.asn == self.asn)
        if self.state:
            if self.state == "admin":
                stmt = stmt.where(Session.admin_status == AdminStatus.DOWN)
            elif self.state == "unconfigured":
                stmt = stmt.where(Session.configured.is_(False))
            elif self.state == "down":
                stmt = stmt.where(or_(Session.bgp_state.is_(None), Session.bgp_state != "Established"))
            else:
                stmt = stmt.where(Session.bgp_state == STATE_WORDS[self.state])
        if self.text:
            text = self.text.lower()
            stmt = stmt.where(or_(func.lower(Peer.name).contains(text, autoescape=True),
                                  Session.peer_ip.contains(text, autoescape=True),
                                  func.lower(Session.notes).contains(text, autoescape=True)))
        return stmt


def _asn(value: str) -> int:
    try:
        return parse_asn(value).value
    except FieldError as exc:
        raise InvalidInput({"asn": str(exc)}) from None


def _base() -> Select:
    return (
        select(Session)
        .join(Session.router).join(Session.peer).join(Session.exchange)
        .options(joinedload(Session.router), joinedload(Session.peer), joinedload(Session.exchange),
                 joinedload(Session.peer_group))
    )


def list_sessions(db: Database, query_text: str = "", page: int = 1, page_size: int = 15) -> SessionPage:
    query = SessionQuery.parse(query_text)
    with db.session() as s:
        filtered = query.apply(_base())
        total = s.scalar(select(func.count()).select_from(filtered.order_by(None).subquery())) or 0
        pages = max(1, math.ceil(total / page_size))
        page = min(max(1, page), pages)
        rows = s.scalars(
            filtered.order_by(Router.name, Peer.asn, Session.peer_ip).offset((page - 1) * page_size).limit(page_size)
        ).unique()
        items = [SessionView.of(r) for r in rows]
    return SessionPage(items=items, page=page, pages=pages, total=total, query_text=query_text.strip())


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
