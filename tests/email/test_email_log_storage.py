"""The email_log table on SQLite and PostgreSQL: a mail's record outlives its session."""
from __future__ import annotations

from sqlalchemy import delete, select

from storage.db import Database
from storage.models import EmailLog, Exchange, Peer, Router, Session, SessionType


def test_email_log_keeps_the_record_when_the_session_goes(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    with db.session() as s:
        router = Router(name="r1", host="h", port=22, platform="frr", username="u", local_asns=[64500], addresses=[])
        peer = Peer(name="P", asn=65601)
        ix = s.scalar(select(Exchange).where(Exchange.is_none.is_(True)))
        s.add_all([router, peer])
        s.flush()
        row = Session(session_type=SessionType.LOCAL, exchange_id=ix.id, router_id=router.id, local_asn=64500,
                      peer_id=peer.id, peer_ip="192.0.2.10", address_family=4)
        s.add(row)
        s.flush()
        s.add(EmailLog(session_id=row.id, session_label="P AS65601 192.0.2.10 on r1", actor="U111",
                       recipients=["noc@peer.example"], cc=[], template="peering_request", subject="Hi"))
        sid = row.id
    with db.session() as s:
        s.execute(delete(Session).where(Session.id == sid))
    with db.session() as s:
        log = s.scalar(select(EmailLog))
        assert log.session_id is None and log.session_label.startswith("P AS65601")
        assert log.recipients == ["noc@peer.example"] and log.sent_at is not None
    db.downgrade("0004")
    db.upgrade()
    db.dispose()
