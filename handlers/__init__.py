"""Slack listeners. `register_all` wires every area onto a Bolt App; listeners only translate
payloads into calls on the domain packages (bot.*) and render the results with handlers.views.

May import: bot.irr, bot.home, bot.email and everything below them; never bot.serve or bot.cli."""
from __future__ import annotations

from dataclasses import dataclass, field

from slack_bolt import App

from bot.changes.runner import ChangeRunner
from bot.core import Core


@dataclass
class UiConfig:
    """What the registered areas offer, so views show only buttons that work."""

    detail_actions: set[str] = field(default_factory=set)
    can_add: bool = False
    bulk: bool = False  # the list shows the bulk select + Admin Up/Down/Delete (router_actions)
    discover: bool = False  # App Home and router details show Discover sessions (adoption)


def register_all(app: App, core: Core, runner: ChangeRunner) -> UiConfig:
    from handlers import actions, adoption, approvals, commands, edit, email, home, router_actions, wizard
    from handlers.ids import Action

    ui = UiConfig()
    table = commands.CommandTable()
    app.use(services_middleware(core, runner, ui))
    commands.register(app, core, ui, table, runner)
    actions.register(app, core, ui)
    ui.detail_actions |= actions.DETAIL_ACTIONS
    router_actions.register(app, core, ui, table)  # sets ui.bulk, adds its detail actions
    approvals.register(app, core, ui, table, runner)
    wizard.register(app, core, ui, table)
    ui.can_add = True
    ui.detail_actions.add(Action.ADD_SESSION)
    email.register(app, core, ui, runner.workers)
    ui.detail_actions.add(Action.EMAIL)
    home.register(app)
    edit.register(app, ui)  # the Edit button (opens the wizard prefilled)
    adoption.register(app, core, ui, table, runner)  # discover, import, drift
    return ui


@dataclass(frozen=True)
class Services:
    """What listeners find on Bolt's context as `context["services"]`. Bolt deep-copies the
    context for lazy listeners: these are shared, not copied."""

    core: Core
    runner: ChangeRunner
    ui: UiConfig

    def __deepcopy__(self, memo: dict) -> Services:
        return self


def services_middleware(core: Core, runner: ChangeRunner, ui: UiConfig):  # noqa: ANN201
    """Puts the services on Bolt's context (listeners take `context`), and turns away anyone who
    is not a viewer (PEERBOT_VIEWERS) before any listener runs."""
    from slack_bolt.response import BoltResponse

    from bot.core.access import Role
    from handlers.views.sessions import error_message

    services = Services(core, runner, ui)

    def middleware(context, body, next, respond, logger):  # noqa: ANN001, ANN202, A002
        context["services"] = services
        user = context.user_id or ""
        if core.access.has(user, Role.VIEWER):
            return next()
        logger.info("refused a request from %s: not a viewer", user[:32])
        text = "You are not allowed to use peerbot here: ask an admin to add you to PEERBOT_VIEWERS."
        if body.get("type") == "block_suggestion":
            return BoltResponse(status=200, body={"options": []})
        if body.get("command"):
            return BoltResponse(status=200, body=text)  # shown to the user alone
        if body.get("response_url"):
            respond(response_type="ephemeral", replace_original=False, **error_message(text))
        return BoltResponse(status=200, body="")

    return middleware
