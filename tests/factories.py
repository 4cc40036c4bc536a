"""Build domain data through the real services (no hand-made rows that skip validation)."""
from __future__ import annotations

from sqlalchemy import select

from bot.core import Core
from bot.sessions.provisioning import SessionDraft, create_session
from bot.sessions.views import SessionView
from storage.models import Exchange, PeerGroup, Router


def ids(core: Core) -> dict[str, int]:
    with core.db.session() as s:
        out = {f"router:{r.name}": r.id for r in s.scalars(select(Router))}
        out |= {f"ix:{x.name}": x.id for x in s.scalars(select(Exchange))}
        out |= {f"pg:{g.router.name}/{g.name}": g.id for g in s.scalars(select(PeerGroup))}
    return out


def make_session(core: Core, *, ip: str = "192.0.2.10", asn: str = "65601", name: str = "Example Peer",
                 router: str = "edge1", exchange: str = "EXAMPLE-IX", session_type: str = "public",
                 md5: str | None = None, actor: str = "U111", **extra: object) -> SessionView:
    i = ids(core)
    draft = SessionDraft(
        session_type=session_type, exchange_id=i[f"ix:{exchange}"], router_id=i[f"router:{router}"],
        local_asn=64500, peer_name=name, peer_asn=asn, peer_ip=ip, md5=md5, **extra,  # type: ignore[arg-type]
    )
    return create_session(core, draft, actor=actor)
