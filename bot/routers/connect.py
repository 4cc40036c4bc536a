"""Reaching a stored router: its credentials (the password from the environment variable the
inventory names, never from the database) and a driver for them, through the factory a caller
or the core gives (tests put a fake router there), else netmiko."""
from __future__ import annotations

import os
from collections.abc import Callable

from bot.base.errors import PeerbotError
from bot.core import Core
from bot.routers import Platform, RouterCredentials, RouterDriver, get_driver
from storage.models import Router

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
