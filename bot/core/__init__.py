"""The application core handed to every surface (Slack handlers, CLI, scheduler): `Core` (below),
and what it is made of: settings (pydantic-settings from the environment), access (roles),
crypto (stored secrets), locks (router locks across processes), workers (peerbot's bounded
worker pool) and audit (the audit trail).

May import: bot.base and storage."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.access import Access
from bot.core.crypto import SecretBox, load_secret_box
from bot.core.locks import ChangeLocks
from bot.core.settings import Settings
from storage.db import Database


@dataclass
class Core:
    settings: Settings
    db: Database
    secrets: SecretBox
    # How routers are reached: (credentials, timeout) -> RouterDriver. None means the netmiko
    # driver; tests put a fake router here.
    driver_factory: Callable[..., Any] | None = None
    locks: ChangeLocks = field(default_factory=ChangeLocks)  # per process: one change a session/router
    access: Access = field(default_factory=Access)  # who may do what (roles); deny by default

    @classmethod
    def from_settings(cls, settings: Settings, *, upgrade: bool = True) -> Core:
        db = Database(settings.database_url)
        if upgrade:
            db.upgrade()
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        return cls(settings=settings, db=db, secrets=load_secret_box(secret, settings.secret_key_path, db),
                   access=Access.from_settings(settings), locks=ChangeLocks.for_engine(db.engine))
