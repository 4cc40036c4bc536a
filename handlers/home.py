"""The App Home tab: published when a user opens it, and again after its Refresh button's polls.
Viewers only: the global middleware (handlers.services_middleware) turns others away first."""
from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.home.summary import home_summary
from handlers.views.home import home_view

log = logging.getLogger(__name__)


def publish_home(client: WebClient, core: Any, user: str) -> None:
    client.views_publish(user_id=user, view=home_view(home_summary(core)))


def on_home_opened(event: dict, client: WebClient, context: BoltContext) -> None:
    if event.get("tab") != "home":
        return  # the Messages tab
    user = str(event.get("user") or context.user_id or "")
    if not (user.isascii() and user.isalnum()) or len(user) > 32:  # not a Slack user id: nobody to publish to
        log.info("app_home_opened without a valid user ignored")
        return
    publish_home(client, context["services"].core, user)


def refresh_home(body: dict, client: WebClient, context: BoltContext) -> None:
    """The Home tab's Refresh (Action.LIST_REFRESH with value HOME_REFRESH): poll every router on
    the worker pool, then publish the tab again."""
    services = context["services"]
    user = context.user_id or ""

    def done(result: object) -> None:
        if isinstance(result, Exception):
            log.warning("home refresh: poll failed (%s)", type(result).__name__)
        try:
            publish_home(client, services.core, user)
        except Exception:  # noqa: BLE001 - the tab keeps its last content
            log.exception("home refresh: could not publish the Home tab")

    services.runner.poll(lambda changes: changes.poll_all(), done, key="all")


def register(app: App) -> None:
    app.event("app_home_opened")(on_home_opened)
