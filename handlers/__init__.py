"""Slack listeners. `register_all` wires every area onto a Bolt App; listeners only translate
payloads into calls on bot.services and render the results with handlers.views."""
from __future__ import annotations

from dataclasses import dataclass, field

from slack_bolt import App

from bot.core import Core


@dataclass
class UiConfig:
    """What the registered areas offer, so views show only buttons that work."""

    detail_actions: set[str] = field(default_factory=set)
    can_add: bool = False
    bulk: bool = False  # the list shows the bulk select + Admin Up/Down/Delete (router_actions)


def register_all(app: App, core: Core) -> UiConfig:
    from handlers import actions, commands, router_actions, wizard
    from handlers.ids import Action

    ui = UiConfig()
    table = commands.CommandTable()
    commands.register(app, core, ui, table)
    actions.register(app, core, ui)
    ui.detail_actions |= actions.DETAIL_ACTIONS
    router_actions.register(app, core, ui, table)  # sets ui.bulk, adds its detail actions
    wizard.register(app, core, ui, table)
    ui.can_add = True
    ui.detail_actions.add(Action.ADD_SESSION)
    return ui
