"""The schema: SQLAlchemy 2 typed models. Nothing but tables and their relationships."""
from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Enum, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy import Index, func
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


# Tables whose ids travel in Slack buttons never reuse an id, so that a button on an old message
# cannot act on a newer row (SQLite reuses the highest deleted rowid without AUTOINCREMENT;
# PostgreSQL sequences never go back). Migration 0003 rebuilt them on SQLite.
_IDS_NEVER_REUSED = {"sqlite_autoincrement": True}


class Router(Base):
    __tablename__ = "router"
    __table_args__ = _IDS_NEVER_REUSED
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
    # Discovery (issue 17): when the BGP configuration was last read, why the last read failed,
    # and the neighbors its parser could not read ([{"peer": ..., "reason": ...}]).
    config_read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    config_error: Mapped[str | None] = mapped_column(Text)
    config_skipped: Mapped[list[dict] | None] = mapped_column(JSON)

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
    __table_args__ = _IDS_NEVER_REUSED
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    peeringdb_ix_id: Mapped[int | None] = mapped_column(Integer)
    lan_prefix_v4: Mapped[str | None] = mapped_column(String(64))
    lan_prefix_v6: Mapped[str | None] = mapped_column(String(64))
    # Name and LAN prefixes come from the PeeringDB mirror and follow it on each sync (issue 9).
    peeringdb_managed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
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
    # IRR import (issue 10, bot/irr): where the lists came from, their sizes (shown without
    # loading the lists), the source the user pinned with SOURCE:: (re-imports keep it), and
    # the last attempt that did not change the lists (an error, or a change flagged as too large).
    irr_host: Mapped[str | None] = mapped_column(String(255))
    pinned_source: Mapped[str | None] = mapped_column(String(64))
    count_v4: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    count_v6: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))


class Peer(Base):
    __tablename__ = "peer"
    __table_args__ = _IDS_NEVER_REUSED
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    asn: Mapped[int] = mapped_column(BigInteger, index=True)
    peeringdb_net_id: Mapped[int | None] = mapped_column(Integer)
    as_set: Mapped[str | None] = mapped_column(String(128))
    is_local: Mapped[bool] = mapped_column(Boolean, default=True)  # local/custom, not from PeeringDB
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    sessions: Mapped[list[Session]] = relationship(back_populates="peer")


# Type-ahead: case-insensitive name prefix as an index range scan (migration 0009)
Index("ix_peer_name_lower", func.lower(Peer.name))


class Session(Base):
    __tablename__ = "session"
    __table_args__ = (UniqueConstraint("router_id", "peer_ip", name="uq_session_router_peer_ip"), _IDS_NEVER_REUSED)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_type: Mapped[SessionType] = mapped_column(_enum(SessionType, "session_type"))
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchange.id"), index=True)
    router_id: Mapped[int] = mapped_column(ForeignKey("router.id"))
    peer_group_id: Mapped[int | None] = mapped_column(ForeignKey("peer_group.id", ondelete="SET NULL"))
    local_asn: Mapped[int] = mapped_column(BigInteger)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peer.id"), index=True)
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
    # Max-prefix limits, filled from PeeringDB's info_prefixes4/6 by the wizard (issue 9); editable.
    max_prefixes_v4: Mapped[int | None] = mapped_column(Integer)
    max_prefixes_v6: Mapped[int | None] = mapped_column(Integer)
    # The inbound filter object (prefix-list / route-policy / policy-statement, named by
    # bot/routers/filters.py) last configured for this session on its router (migration 0006).
    prefix_filter: Mapped[str | None] = mapped_column(String(80))
    # A change was cut off half-way (timeout, dropped connection, crash): what the router holds
    # is unknown until the next poll reconciles it.
    needs_check: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Imported from a router whose neighbor has a TCP-MD5 key peerbot could not read (issue 17):
    # a push must not drop it, so Configure asks for the key (Edit) first.
    md5_unknown: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
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


class AppMeta(Base):
    """Settings of the installation itself, one row each (migration 0003): e.g. "secret_kdf",
    the salt and scrypt parameters that turn PEERBOT_SECRET_KEY into the encryption key. They
    live beside the data they protect, so every process sharing the database agrees on them."""

    __tablename__ = "app_meta"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ChangeState(str, enum.Enum):
    REQUESTED = "requested"  # waiting for an approver
    APPROVED = "approved"  # may run; a worker claims it
    RUNNING = "running"  # claimed: its commands may be on the router
    DONE = "done"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"  # too old, or what it would push changed since it was asked for
    CANCELLED = "cancelled"


OPEN_CHANGE_STATES = (ChangeState.REQUESTED, ChangeState.APPROVED, ChangeState.RUNNING)


class ChangeAction(enum.StrEnum):
    """What a change request does: the values of ChangeRequest.action (a plain string column).
    PEERBOT_APPROVAL_SKIP names them; bot/changes/records.py ACTIONS labels each one."""

    CONFIGURE = "configure"
    CONFIG_PUSH = "config_push"  # Config Manager: the commands as edited
    ADMIN_UP = "admin_up"
    ADMIN_DOWN = "admin_down"
    DELETE = "delete"
    EDIT = "edit"  # new values of a configured session, or a move (bot/changes/editing.py)


class ChangeRequest(Base):
    """A router change, stored before anything touches a router; every router change is one."""

    __tablename__ = "change_request"
    __table_args__ = _IDS_NEVER_REUSED
    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(32))  # a ChangeAction value
    state: Mapped[ChangeState] = mapped_column(_enum(ChangeState, "change_state"), index=True)
    summary: Mapped[str] = mapped_column(Text)  # what changes, on which router(s): safe to show
    router_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # sha256 over what the sessions would render (masked) + their key ciphertexts: a request whose
    # fingerprint differs from today's is stale and cannot be approved or run.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Config Manager: the text as the user submitted it (it may hold a key typed in clear), Fernet
    # encrypted; decrypted only to push it.
    edited_encrypted: Mapped[str | None] = mapped_column(Text)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))  # approver, rejecter or canceller
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)  # why rejected / cancelled / expired
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    runner: Mapped[str | None] = mapped_column(String(128))  # host:pid of the process that ran it
    outcome: Mapped[str | None] = mapped_column(Text)  # one line, safe to show
    idempotency_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    # where it was asked from, and its approval message (so any process can update them)
    origin_channel: Mapped[str | None] = mapped_column(String(32))
    origin_ts: Mapped[str | None] = mapped_column(String(32))
    origin_response_url: Mapped[str | None] = mapped_column(String(512))
    approval_channel: Mapped[str | None] = mapped_column(String(32))
    approval_ts: Mapped[str | None] = mapped_column(String(32))
    reported_state: Mapped[str | None] = mapped_column(String(16))  # the state Slack last showed

    items: Mapped[list[ChangeRequestItem]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="ChangeRequestItem.id")


class ChangeRequestItem(Base):
    """One session of a request: its exact commands (masked) and its result."""

    __tablename__ = "change_request_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("change_request.id", ondelete="CASCADE"), index=True)
    # no foreign key: the request outlives a deleted session (it is the audit of that delete)
    session_id: Mapped[int] = mapped_column(Integer, index=True)
    router_id: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(255))  # "Peer AS65001 192.0.2.1 on edge1"
    commands: Mapped[list[str]] = mapped_column(JSON, default=list)  # masked, as shown to the approver
    ok: Mapped[bool | None] = mapped_column(Boolean)
    result: Mapped[str | None] = mapped_column(Text)

    request: Mapped[ChangeRequest] = relationship(back_populates="items")


class IdempotencyKey(Base):
    """Keys of requests already carried out (wizard Create, buttons), so a retry does nothing twice."""

    __tablename__ = "idempotency_key"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    result_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---------------------------------------------------------------------------------------------
# PeeringDB mirror (issue 9, migration 0004). Primary keys are PeeringDB's own ids; no foreign
# keys between the mirror tables, because an incremental sync applies each object type on its own
# (in its own transaction) and PeeringDB may list a child before we hold its parent.
# Only the fields peerbot uses, plus `status` and `updated`.
# ---------------------------------------------------------------------------------------------


class PdbOrg(Base):
    __tablename__ = "pdb_org"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(255))
    aka: Mapped[str | None] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    updated: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PdbNet(Base):
    __tablename__ = "pdb_net"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    org_id: Mapped[int | None] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(255))
    # lower(name), kept by the sync: an indexed column for prefix range scans in the type-ahead.
    name_lc: Mapped[str] = mapped_column(String(255), index=True)
    aka: Mapped[str | None] = mapped_column(String(255))
    asn: Mapped[int] = mapped_column(BigInteger, index=True)
    irr_as_set: Mapped[str | None] = mapped_column(Text)
    info_prefixes4: Mapped[int | None] = mapped_column(Integer)
    info_prefixes6: Mapped[int | None] = mapped_column(Integer)
    policy_general: Mapped[str | None] = mapped_column(String(32))
    info_ipv6: Mapped[bool | None] = mapped_column(Boolean)
    info_unicast: Mapped[bool | None] = mapped_column(Boolean)
    website: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    updated: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PdbNetToken(Base):
    """Search index of pdb_net: every suffix (≥ 3 characters) of every word of name, aka and
    irr_as_set, lower-cased. A substring query becomes a prefix range scan over this table."""

    __tablename__ = "pdb_net_token"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    net_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


class PdbPoc(Base):
    __tablename__ = "pdb_poc"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    net_id: Mapped[int] = mapped_column(Integer, index=True)
    role: Mapped[str | None] = mapped_column(String(32))  # Policy, NOC, Technical, Abuse, ...
    visible: Mapped[str | None] = mapped_column(String(16))  # Public, Users, Private
    name: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    updated: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PdbIx(Base):
    __tablename__ = "pdb_ix"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    org_id: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    name_long: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(192))
    country: Mapped[str | None] = mapped_column(String(8))
    website: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    updated: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PdbIxLan(Base):
    __tablename__ = "pdb_ixlan"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ix_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    mtu: Mapped[int | None] = mapped_column(Integer)
    rs_asn: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    updated: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PdbIxPfx(Base):
    __tablename__ = "pdb_ixpfx"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ixlan_id: Mapped[int] = mapped_column(Integer, index=True)
    protocol: Mapped[str] = mapped_column(String(8))  # "IPv4" | "IPv6"
    prefix: Mapped[str] = mapped_column(String(64))
    in_dfz: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    updated: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PdbNetIxLan(Base):
    __tablename__ = "pdb_netixlan"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    net_id: Mapped[int] = mapped_column(Integer, index=True)
    ix_id: Mapped[int] = mapped_column(Integer, index=True)
    ixlan_id: Mapped[int] = mapped_column(Integer)
    asn: Mapped[int] = mapped_column(BigInteger)
    ipaddr4: Mapped[str | None] = mapped_column(String(64))
    ipaddr6: Mapped[str | None] = mapped_column(String(64))
    speed: Mapped[int | None] = mapped_column(BigInteger)  # Mbit/s
    is_rs_peer: Mapped[bool | None] = mapped_column(Boolean)
    operational: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    updated: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PdbSyncState(Base):
    """When each PeeringDB object type was last synced; `since` is the next ?since= value."""

    __tablename__ = "pdb_sync_state"
    object_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    since: Mapped[int] = mapped_column(BigInteger)  # unix epoch (PeeringDB's clock)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
# --- end of PeeringDB mirror ------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Email log (issue 9, migration 0005): mail sent to peers from the session detail message.
# ---------------------------------------------------------------------------------------------


class EmailLog(Base):
    """One email that the SMTP server accepted. Failed sends are not here (they are in the audit)."""

    __tablename__ = "email_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    # SET NULL: the record of what was mailed to whom outlives the session; the label says which it was.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("session.id", ondelete="SET NULL"), index=True)
    session_label: Mapped[str] = mapped_column(String(255))  # "Example Peer AS65601 192.0.2.10 on edge1"
    actor: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    cc: Mapped[list[str]] = mapped_column(JSON, default=list)
    template: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(255))


class EmailSend(Base):
    """One Send of an email (issue 21): claimed here, under a unique `key`, *before* SMTP is called,
    so a retried, replayed or double-clicked Send finds the first claim instead of mailing again.

    state: "sending" (claimed; SMTP not finished), "sent" (accepted: also an EmailLog row),
    "failed" (not sent; `outcome` says why), "unknown" (SMTP may or may not have taken it: the
    process stopped, or the connection broke during DATA). A "sending" row older than a few
    minutes is in doubt too. A row in doubt is never sent again by itself: Send again makes a new
    row (key "again:<id>", `again_of` = this id)."""

    __tablename__ = "email_send"
    __table_args__ = (UniqueConstraint("key", name="uq_email_send_key"), _IDS_NEVER_REUSED)
    id: Mapped[int] = mapped_column(primary_key=True)
    # "view:<Slack view id>:<sha256 of what was submitted>", "again:<email_send id>", "call:<uuid>":
    # never message text in clear
    key: Mapped[str] = mapped_column(String(160))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("session.id", ondelete="SET NULL"), index=True)
    session_label: Mapped[str] = mapped_column(String(255))
    actor: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    smtp_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # set once, before SMTP
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    template: Mapped[str] = mapped_column(String(32))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    cc: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(255))
    body_encrypted: Mapped[str] = mapped_column(Text)  # Fernet (bot/core/secrets): for Send again only
    message_id: Mapped[str] = mapped_column(String(255))  # chosen at the claim; Send again reuses it
    outcome: Mapped[str | None] = mapped_column(Text)  # why failed / unknown: one line, safe to show
    again_of: Mapped[int | None] = mapped_column(Integer, index=True)  # the row this one sends again
    origin_channel: Mapped[str | None] = mapped_column(String(32))  # the detail message to update
    origin_ts: Mapped[str | None] = mapped_column(String(32))
# --- end of email log ------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Fleet polling (issue 11, migration 0007): who polls which router when, across bot processes.
# ---------------------------------------------------------------------------------------------


class RouterPoll(Base):
    """A router's poll claim. A process polls a router only after a conditional UPDATE of this row
    succeeds (bot/polling/claims.py): no other claim live (claimed_until) and, for scheduled
    polls, the router due (next_poll_at) - so two processes on one database poll it once per interval."""

    __tablename__ = "router_poll"
    router_id: Mapped[int] = mapped_column(ForeignKey("router.id", ondelete="CASCADE"), primary_key=True)
    claimed_by: Mapped[str | None] = mapped_column(String(128))  # "host:pid:nonce" of the polling process
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # lease; NULL: free
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # scheduled polls wait for it
# --- end of fleet polling --------------------------------------------------------------------


class ScheduledRun(Base):
    """When a background job (IRR re-import, PeeringDB sync, drift check, history pruning) last
    ran. A process runs the job only after a conditional UPDATE of this row succeeds
    (bot/core/runs.py), so several processes on one database run it once per interval."""

    __tablename__ = "scheduled_run"
    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    run_by: Mapped[str | None] = mapped_column(String(128))  # "host:pid" of the process that ran it


# ---------------------------------------------------------------------------------------------
# State history and notices (issue 11, migration 0008).
# ---------------------------------------------------------------------------------------------


class StateHistory(Base):
    """One BGP state change of a session, as a poll or a change's read-back stored it."""

    __tablename__ = "state_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    # no foreign key: like the audit, the record may outlive the session; pruned by age
    session_id: Mapped[int] = mapped_column(Integer, index=True)
    router_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    old_state: Mapped[str | None] = mapped_column(String(32))
    new_state: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)  # the router's last error, or what peerbot did
    prefixes_received: Mapped[int | None] = mapped_column(Integer)
    prefixes_accepted: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="poll")  # poll | change


class Notice(Base):
    """The outbox: a channel notice decided in the same transaction as the change it tells of,
    claimed by one sender (state pending -> sending -> sent), so a restart neither loses nor
    repeats it and two processes send it once."""

    __tablename__ = "notice"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # change | summary | flapping | stable | unreachable | reachable
    channel: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(32))  # whose thread: "session:12" or "router:3"
    payload: Mapped[dict] = mapped_column(JSON, default=dict)  # the facts the renderer shows
    broadcast: Mapped[bool] = mapped_column(Boolean, default=False)  # a thread reply also shown in the channel
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending | sending | sent
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    ts: Mapped[str | None] = mapped_column(String(32))  # the posted message
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NoticeThread(Base):
    """A subject's thread in a channel (its first notice's ts), and whether it is flapping."""

    __tablename__ = "notice_thread"
    subject: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    flapping_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
# --- end of state history and notices ----------------------------------------------------------


# --- discovery and drift (issue 17) --------------------------------------------------------------
class RouterNeighbor(Base):
    """A BGP neighbor as the router's configuration had it at the last discovery: the settings
    compared with the sessions (bot/routers/bgp_config ConfiguredNeighbor.settings()) and its
    configuration lines (passwords masked). Replaced at every read of the router."""

    __tablename__ = "router_neighbor"
    __table_args__ = (UniqueConstraint("router_id", "peer_ip"), _IDS_NEVER_REUSED)
    id: Mapped[int] = mapped_column(primary_key=True)
    router_id: Mapped[int] = mapped_column(ForeignKey("router.id", ondelete="CASCADE"), index=True)
    peer_ip: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    lines: Mapped[list[str]] = mapped_column(JSON, default=list)
    fingerprint: Mapped[str] = mapped_column(String(32))
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DriftItem(Base):
    """One difference between a router and the database: a neighbor peerbot does not know
    (unknown), a configured session whose neighbor is gone (gone), or settings that differ
    (differs). open -> adopted | fixing -> resolved | ignored (until the fingerprint changes)."""

    __tablename__ = "drift_item"
    __table_args__ = (UniqueConstraint("router_id", "peer_ip"), _IDS_NEVER_REUSED)
    id: Mapped[int] = mapped_column(primary_key=True)
    router_id: Mapped[int] = mapped_column(ForeignKey("router.id", ondelete="CASCADE"), index=True)
    peer_ip: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # unknown | gone | differs
    differences: Mapped[list[str]] = mapped_column(JSON, default=list)  # one line each, safe to show
    fingerprint: Mapped[str] = mapped_column(String(64))  # what the router and the database said
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    change_request_id: Mapped[int | None] = mapped_column(Integer)  # a Fix
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reported_fingerprint: Mapped[str | None] = mapped_column(String(64))  # what the last report showed
