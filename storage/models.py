"""The schema: SQLAlchemy 2 typed models. Nothing but tables and their relationships."""
from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class SessionType(str, enum.Enum):
    PUBLIC = "public"  # at an internet exchange (IXP)
    PRIVATE = "private"  # private network interconnect (PNI)
    LOCAL = "local"  # local/custom peer, no exchange


class AdminStatus(str, enum.Enum):
    UP = "up"
    DOWN = "down"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Store the values ("public"), not the member names, and as VARCHAR + CHECK so that
    # adding a member never needs a PostgreSQL ALTER TYPE.
    return Enum(cls, name=name, native_enum=False, length=16, values_callable=lambda c: [m.value for m in c])


class Router(Base):
    __tablename__ = "router"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=22)
    platform: Mapped[str] = mapped_column(String(16))
    username: Mapped[str] = mapped_column(String(64))
    # A reference, never the secret: the name of an environment variable holding the password.
    password_env: Mapped[str | None] = mapped_column(String(128))
    key_file: Mapped[str | None] = mapped_column(String(512))
    local_asns: Mapped[list[int]] = mapped_column(JSON, default=list)
    addresses: Mapped[list[str]] = mapped_column(JSON, default=list)  # the router's own IPs
    url: Mapped[str | None] = mapped_column(String(512))  # link to its page in an IPAM/NMS
    last_polled: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)

    peer_groups: Mapped[list[PeerGroup]] = relationship(back_populates="router", cascade="all, delete-orphan")


class PeerGroup(Base):
    __tablename__ = "peer_group"
    __table_args__ = (UniqueConstraint("router_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    router_id: Mapped[int] = mapped_column(ForeignKey("router.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(255))

    router: Mapped[Router] = relationship(back_populates="peer_groups")


class Exchange(Base):
    __tablename__ = "exchange"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    peeringdb_ix_id: Mapped[int | None] = mapped_column(Integer)
    lan_prefix_v4: Mapped[str | None] = mapped_column(String(64))
    lan_prefix_v6: Mapped[str | None] = mapped_column(String(64))
    # The built-in "No Exchange" row used by local/custom and PNI sessions.
    is_none: Mapped[bool] = mapped_column(Boolean, default=False)


class AsSet(Base):
    """An AS-SET known locally (imported from an IRR), with its resolved prefixes."""

    __tablename__ = "as_set"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    source: Mapped[str | None] = mapped_column(String(64))
    prefixes_v4: Mapped[list[str]] = mapped_column(JSON, default=list)
    prefixes_v6: Mapped[list[str]] = mapped_column(JSON, default=list)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Peer(Base):
    __tablename__ = "peer"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    asn: Mapped[int] = mapped_column(BigInteger, index=True)
    peeringdb_net_id: Mapped[int | None] = mapped_column(Integer)
    as_set: Mapped[str | None] = mapped_column(String(128))
    is_local: Mapped[bool] = mapped_column(Boolean, default=True)  # local/custom, not from PeeringDB
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    sessions: Mapped[list[Session]] = relationship(back_populates="peer")


class Session(Base):
    __tablename__ = "session"
    __table_args__ = (UniqueConstraint("router_id", "peer_ip", name="uq_session_router_peer_ip"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_type: Mapped[SessionType] = mapped_column(_enum(SessionType, "session_type"))
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchange.id"))
    router_id: Mapped[int] = mapped_column(ForeignKey("router.id"))
    peer_group_id: Mapped[int | None] = mapped_column(ForeignKey("peer_group.id", ondelete="SET NULL"))
    local_asn: Mapped[int] = mapped_column(BigInteger)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peer.id"))
    peer_ip: Mapped[str] = mapped_column(String(64))  # normalised (ipaddress) text form
    address_family: Mapped[int] = mapped_column(Integer)  # 4 or 6, derived from peer_ip
    md5_encrypted: Mapped[str | None] = mapped_column(Text)  # Fernet token, never the clear text
    as_set: Mapped[str | None] = mapped_column(String(128))
    notes: Mapped[str | None] = mapped_column(Text)
    admin_status: Mapped[AdminStatus] = mapped_column(_enum(AdminStatus, "admin_status"), default=AdminStatus.UP)
    configured: Mapped[bool] = mapped_column(Boolean, default=False)  # pushed to the router
    bgp_state: Mapped[str | None] = mapped_column(String(32))  # None = never polled
    prefixes_received: Mapped[int | None] = mapped_column(Integer)
    prefixes_accepted: Mapped[int | None] = mapped_column(Integer)
    prefixes_advertised: Mapped[int | None] = mapped_column(Integer)
    last_state_change: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_polled: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    exchange: Mapped[Exchange] = relationship()
    router: Mapped[Router] = relationship()
    peer_group: Mapped[PeerGroup | None] = relationship()
    peer: Mapped[Peer] = relationship(back_populates="sessions")


class AuditEvent(Base):
    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # Slack user id, or "cli:<user>", "scheduler"
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16))  # "ok" | "error"
    detail: Mapped[str | None] = mapped_column(Text)


class IdempotencyKey(Base):
    """Keys of requests already carried out (wizard Create, buttons), so a retry does nothing twice."""

    __tablename__ = "idempotency_key"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    result_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
