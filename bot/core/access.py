"""Who may do what: the one place every listener and service asks.

Roles come from settings (PEERBOT_VIEWERS / _OPERATORS / _APPROVERS / _ADMINS): lists of Slack
user ids (U…/W…) and user group ids (S…). Groups are resolved with `usergroups.users.list`
through an injected resolver, cached briefly and refreshed on a miss.

- viewer: read (list, show, refresh, audit). Everyone when PEERBOT_VIEWERS is empty.
- operator: create sessions, request router changes, send email.
- approver: approve / reject requests of others.
- admin: everything operators and approvers may, and cancel anyone's request.

Deny by default: with no operators/approvers/admins configured nobody may change anything,
unless PEERBOT_OPEN_MODE (a lab) gives every user every role. The CLI runs as `cli:<unix user>`
with the roles of PEERBOT_CLI_ROLES (default: operator). The scheduled IRR re-import runs as
`irr`: it may request changes (operator), never approve them.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from enum import StrEnum

from bot.base.errors import PermissionDenied

log = logging.getLogger(__name__)

CLI_PREFIX = "cli:"
SYSTEM_ACTORS = frozenset({"scheduler", "system"})
# The scheduled IRR re-import (bot/irr/refresh.py) asks for Configure when an AS-SET's prefixes
# changed: an operator's right to request, never to approve (an approver still decides).
IRR_ACTOR = "irr"


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    APPROVER = "approver"
    ADMIN = "admin"


# What each role implies.
_IMPLIES = {
    Role.VIEWER: {Role.VIEWER},
    Role.OPERATOR: {Role.OPERATOR, Role.VIEWER},
    Role.APPROVER: {Role.APPROVER, Role.VIEWER},
    Role.ADMIN: {Role.ADMIN, Role.OPERATOR, Role.APPROVER, Role.VIEWER},
}
_ID = re.compile(r"^[UWS][A-Z0-9]{2,20}$")


def parse_members(text: str | None) -> frozenset[str]:
    """"U123, S456 W789" -> {"U123", "S456", "W789"}; anything else is refused (ValueError)."""
    out = set()
    for item in re.split(r"[\s,]+", text or ""):
        if not item:
            continue
        if not _ID.fullmatch(item):
            raise ValueError(f"{item[:30]!r} is not a Slack user id (U…/W…) or user group id (S…)")
        out.add(item)
    return frozenset(out)


GroupResolver = Callable[[str], Iterable[str]]


class GroupCache:
    """Members of Slack user groups, cached for `ttl` seconds; a miss refreshes the group, at most
    once per `min_refresh` seconds (a stranger clicking buttons cannot make us hammer Slack)."""

    def __init__(self, resolver: GroupResolver, ttl: float = 300.0, min_refresh: float = 10.0):
        self._resolver = resolver
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    def contains(self, group: str, user: str) -> bool:
        now = time.monotonic()
        with self._lock:
            fetched, members = self._cache.get(group, (None, frozenset()))
        fresh = fetched is not None and now - fetched < self._ttl
        if fresh and user in members:
            return True
        if fetched is not None and now - fetched < self._min_refresh:
            return user in members
        try:
            members = frozenset(self._resolver(group))
        except Exception as exc:  # noqa: BLE001 - deny, say why in the log, keep what we had
            log.warning("cannot resolve user group %s: %s", group, type(exc).__name__)
            return fresh and user in members
        with self._lock:
            self._cache[group] = (time.monotonic(), members)
        return user in members


class Access:
    def __init__(self, *, viewers: frozenset[str] = frozenset(), operators: frozenset[str] = frozenset(),
                 approvers: frozenset[str] = frozenset(), admins: frozenset[str] = frozenset(),
                 open_mode: bool = False, cli_roles: frozenset[Role] = frozenset({Role.OPERATOR}),
                 groups: GroupCache | None = None):
        self.members = {Role.VIEWER: viewers, Role.OPERATOR: operators, Role.APPROVER: approvers, Role.ADMIN: admins}
        self.open_mode = open_mode
        self.cli_roles = frozenset(r for role in cli_roles for r in _IMPLIES[role])
        self.groups = groups

    @classmethod
    def from_settings(cls, settings) -> Access:  # noqa: ANN001
        return cls(viewers=parse_members(settings.viewers), operators=parse_members(settings.operators),
                   approvers=parse_members(settings.approvers), admins=parse_members(settings.admins),
                   open_mode=settings.open_mode,
                   cli_roles=frozenset(Role(r) for r in re.split(r"[\s,]+", settings.cli_roles) if r))

    def use_slack_groups(self, resolver: GroupResolver) -> None:
        self.groups = GroupCache(resolver)

    @property
    def configured(self) -> bool:
        return any(self.members[r] for r in (Role.OPERATOR, Role.APPROVER, Role.ADMIN))

    def _listed(self, user: str, role: Role) -> bool:
        members = self.members[role]
        if user in members:
            return True
        if self.groups is None:
            return False
        return any(self.groups.contains(g, user) for g in members if g.startswith("S"))

    def roles_of(self, user: str) -> frozenset[Role]:
        if not user:
            return frozenset()
        if user.startswith(CLI_PREFIX):
            return self.cli_roles
        if user in SYSTEM_ACTORS:
            return frozenset({Role.VIEWER})
        if user == IRR_ACTOR:
            return frozenset({Role.OPERATOR, Role.VIEWER})
        if self.open_mode:
            return frozenset(Role)
        roles: set[Role] = set()
        if not self.members[Role.VIEWER] or self._listed(user, Role.VIEWER):
            roles.add(Role.VIEWER)
        for role in (Role.ADMIN, Role.OPERATOR, Role.APPROVER):
            if not (roles >= _IMPLIES[role]) and self._listed(user, role):
                roles |= _IMPLIES[role]
        return frozenset(roles)

    def has(self, user: str, role: Role) -> bool:
        return role in self.roles_of(user)

    def require(self, user: str, role: Role, what: str) -> None:
        """Raise PermissionDenied (text safe to show) unless `user` has `role`."""
        if self.has(user, role):
            return
        hint = "" if self.configured or self.open_mode else (
            " No roles are configured: set PEERBOT_OPERATORS / PEERBOT_APPROVERS (or PEERBOT_OPEN_MODE in a lab).")
        raise PermissionDenied(f"You are not allowed to {what}: it needs the {role.value} role.{hint}")
