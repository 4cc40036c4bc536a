"""What a router is sent for a session: credentials, the NeighborSpec built from the stored
session, rendering through the platform's templates, and masking of secrets in what is shown."""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from bot.core import Core
from bot.errors import NotFound, PeerbotError
from bot.routers import NeighborSpec, Platform, RouterCredentials, RouterDriver, get_driver, mask_secrets, render
from storage.models import AdminStatus, AsSet, Router, Session

Action = str  # "configure" | "admin_down" | "admin_up" | "deconfigure"
TEMPLATE_FOR = {"configure": "neighbor_create", "admin_down": "admin_down", "admin_up": "admin_up",
                "deconfigure": "delete"}
DriverFactory = Callable[[RouterCredentials, float], RouterDriver]


def default_driver_factory(creds: RouterCredentials, timeout: float) -> RouterDriver:
    return get_driver(creds, timeout=timeout)


def open_router(core: Core, creds: RouterCredentials, factory: DriverFactory | None = None) -> RouterDriver:
    """A driver for `creds`: the factory given, else the core's, else netmiko."""
    return (factory or core.driver_factory or default_driver_factory)(creds, core.settings.router_timeout)


class ChangeError(PeerbotError):
    """A change failed; the message says what happened to the router and to the database."""



def credentials_for(router: Router) -> RouterCredentials:
    password = None
    if router.password_env:
        password = os.environ.get(router.password_env)
        if password is None and not router.key_file:
            raise ChangeError(f"No password for {router.name}: environment variable {router.password_env} is not set.")
    return RouterCredentials(host=router.host, port=router.port, username=router.username, password=password,
                             key_file=router.key_file, platform=Platform(router.platform))



def neighbor_spec(core: Core, row: Session, s) -> NeighborSpec:  # noqa: ANN001
    prefixes: tuple[str, ...] = ()
    prefix_list = None
    if row.as_set:
        known = s.scalar(select(AsSet).where(AsSet.name == row.as_set))
        if known is not None:
            fam = known.prefixes_v4 if row.address_family == 4 else known.prefixes_v6
            if fam:
                prefixes = tuple(fam)
                prefix_list = prefix_list_name(row.peer.asn, row.address_family)
    md5 = core.secrets.decrypt(row.md5_encrypted) if row.md5_encrypted else None
    return NeighborSpec(
        local_asn=row.local_asn, peer_ip=row.peer_ip, remote_asn=row.peer.asn,
        description=description_of(row), address_family=row.address_family,
        peer_group=row.peer_group.name if row.peer_group else None, md5_password=md5,
        prefix_list_name=prefix_list, prefixes=prefixes, admin_down=row.admin_status == AdminStatus.DOWN,
        # what peerbot believes; a push reads the router first and renders again if it differs
        exists_on_router=row.configured,
    )


PREFIX_LIST_PREFIX = "PEERBOT-AS"


def mask_lines(lines: list[str], spec: NeighborSpec) -> list[str]:
    """`lines` (rendered, or edited in Config Manager) with the argument of each password line
    replaced by ********: by position, so that a typed key is masked as well as the stored one,
    and a key that also occurs elsewhere (an ASN, a single character) leaves those places alone."""
    return mask_secrets(lines, spec)




def prefix_list_name(asn: int, family: int) -> str:
    return f"{PREFIX_LIST_PREFIX}{asn}-V{family}"


def description_of(row: Session) -> str:
    # The peer name is cli_safe_text-validated at creation; re-filter anyway, it is going to a CLI.
    name = re.sub(r"[^A-Za-z0-9 _.\-/()]", "", row.peer.name)[:60].strip()
    return f"{name} AS{row.peer.asn}".strip()


def load_session(s, session_id: int) -> Session:  # noqa: ANN001
    row = s.scalar(select(Session).where(Session.id == session_id).options(
        joinedload(Session.router), joinedload(Session.peer), joinedload(Session.peer_group),
        joinedload(Session.exchange)))
    if row is None:
        raise NotFound(f"No session #{session_id}.")
    return row


@dataclass(frozen=True)
class Plan:
    """What an action would send, masked for display; `lines` holds the clear text for the push."""

    session_id: int
    action: Action
    router_name: str
    masked: list[str]
    lines: list[str]


def plan(core: Core, session_id: int, action: Action) -> Plan:
    with core.db.session() as s:
        row = load_session(s, session_id)
        spec = neighbor_spec(core, row, s)
        lines = render(row.router.platform, TEMPLATE_FOR[action], spec, core.settings.templates_dir)
        return Plan(session_id, action, row.router.name, mask_lines(lines, spec), lines)

